"""One typed settings object, read from `INSIGHTBOARDS_*` environment variables."""

from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_DATABASE_URL = "sqlite:///./data/insightboards.db"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="INSIGHTBOARDS_")

    database_url: str = DEFAULT_DATABASE_URL
    # Request bodies larger than this are refused with 413 before they are read whole.
    max_body_bytes: int = 1024 * 1024
    # Create a demo account, user and token on first start of `serve` (empty database).
    demo: bool = True
    # Requests a minute per user (token holder) and worker process; 0 turns the limit off.
    rate_limit_per_minute: int = 6000


def get_settings() -> Settings:
    """Settings as the environment says now (`serve` sets the database URL for its workers)."""
    return Settings()
