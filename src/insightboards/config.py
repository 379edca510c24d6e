"""One typed settings object, read from `INSIGHTBOARDS_*` environment variables."""

from pydantic import PositiveFloat, PositiveInt
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
    # A client must send a request's whole header block within this many seconds of opening
    # the connection or of the previous response, or it is closed (api/transport.py).
    header_timeout_seconds: PositiveFloat = 10
    # Each wait for more of a request body may last this long; then the connection is closed.
    body_timeout_seconds: PositiveFloat = 20
    # An idle connection is closed this many (whole) seconds after its last response.
    keep_alive_timeout_seconds: PositiveInt = 5
    # Connections a worker process serves at once; the ones beyond get 503 and are closed.
    max_connections: PositiveInt = 1000


def get_settings() -> Settings:
    """Settings as the environment says now (`serve` sets the database URL for its workers)."""
    return Settings()
