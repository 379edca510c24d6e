"""One typed settings object, read from `INSIGHTBOARDS_*` environment variables and, when
one is named (`--config` or INSIGHTBOARDS_CONFIG), a TOML file; the environment wins."""

import json
import os
import re
from pathlib import Path
from typing import Annotated, Any

from pydantic import Field, PositiveFloat, PositiveInt, field_validator
from pydantic_settings import (
    BaseSettings,
    NoDecode,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

# The environment variable naming the config file (the `--config` option sets it).
CONFIG_VARIABLE = "INSIGHTBOARDS_CONFIG"


_ORIGIN = re.compile(
    r"https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?|https?://\[[0-9A-Fa-f:.]+\](:[0-9]{1,5})?"
)


class ConfigFileMissing(Exception):
    pass


def data_directory() -> Path:
    """Where the embedded database lives unless a URL says otherwise: the user's data
    folder (`$XDG_DATA_HOME/insightboards`, else `~/.local/share/insightboards`), the same
    whatever folder a command runs in."""
    base = os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share"
    return Path(base) / "insightboards"


def default_database_url() -> str:
    return f"sqlite:///{data_directory() / 'insightboards.db'}"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="INSIGHTBOARDS_")

    database_url: str = Field(default_factory=default_database_url)
    # Request bodies larger than this are refused with 413 before they are read whole.
    max_body_bytes: int = 1024 * 1024
    # Create a demo account, user and token on first start of `serve` (empty database).
    demo: bool = True
    # Requests a minute per API token and worker process; 0 turns the limit off.
    rate_limit_per_minute: int = 6000
    # What one board may hold (dashboards/limits.py); past them a change gets 400 or 413.
    max_items_per_board: int = Field(default=500, ge=1)
    max_labels_per_board: int = Field(default=500, ge=1)
    max_board_bytes: int = Field(default=1024 * 1024, ge=1024)
    # How much history each board keeps (dashboards/history.py): its last so many versions
    # (0: all of them), and of those only the ones younger than so many days (0: any age).
    # The current version is always kept.
    history_keep_versions: int = Field(default=100, ge=0)
    history_keep_days: int = Field(default=0, ge=0)
    # A deleted board stays in the trash this many days, then is purged (0: until purged).
    trash_keep_days: int = Field(default=30, ge=0)
    # The change feed (GET /dashboards/changes, feed/): a stream sends a comment line after
    # this many seconds without an event, so that neither end nor a proxy takes it for
    # dead; each worker looks for new events this often while a stream waits; and a token
    # may hold this many streams and long polls open at once, per worker process. A long
    # poll waits at most `feed_longest_wait_seconds`, whatever its `wait` (a proxy in front
    # may cut off a request sooner than the API's 60).
    feed_heartbeat_seconds: PositiveFloat = 15
    feed_longest_wait_seconds: float = Field(default=60, ge=0)
    feed_poll_seconds: PositiveFloat = 0.1
    feed_streams_per_token: PositiveInt = 10
    # A list (its page and its count) is cancelled past this many milliseconds (400).
    list_time_limit_ms: int = Field(default=1000, ge=1)
    # A client must send a request's whole header block within this many seconds of opening
    # the connection or of the previous response, or it is closed (api/transport.py).
    header_timeout_seconds: PositiveFloat = 10
    # Each wait for more of a request body may last this long; then the connection is closed.
    body_timeout_seconds: PositiveFloat = 20
    # An idle connection is closed this many (whole) seconds after its last response.
    keep_alive_timeout_seconds: PositiveInt = 5
    # Connections a worker process serves at once; the ones beyond get 503 and are closed.
    max_connections: PositiveInt = 1000
    # The query planners' statistics are refreshed every so many seconds, and sooner once
    # the number of boards has moved by this many (and by a quarter) since the last time.
    statistics_interval_seconds: PositiveFloat = 600
    statistics_after_boards: PositiveInt = 500
    # Web pages of these origins may call the API from a browser (CORS): a comma-separated
    # list such as `https://okr.example.com,http://localhost:8080`, or `*` for any. None by
    # default: a browser then refuses to let another origin's page read an answer.
    cors_origins: Annotated[list[str], NoDecode] = []

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        """Arguments first, then the environment, then the config file (a key it does not
        know is an error there: a misspelt setting must not pass unseen)."""
        path = os.environ.get(CONFIG_VARIABLE)
        if not path:
            return init_settings, env_settings
        if not Path(path).is_file():
            raise ConfigFileMissing(f"no config file at {path}")
        return init_settings, env_settings, TomlConfigSettingsSource(settings_cls, path)

    @field_validator("cors_origins", mode="before")
    @classmethod
    def _comma_separated(cls, value: Any) -> Any:
        if isinstance(value, str) and value.strip().startswith("["):
            value = json.loads(value)  # the JSON list form, as in a config file
        if isinstance(value, str):
            value = value.split(",")
        if isinstance(value, list):  # blank entries (`a, `) are dropped, not refused
            stripped = [o.strip().rstrip("/") if isinstance(o, str) else o for o in value]
            return [o for o in stripped if o != ""]
        return value

    @field_validator("cors_origins")
    @classmethod
    def _origins(cls, origins: list[str]) -> list[str]:
        # A browser sends `scheme://host[:port]`; anything else would never match, silently.
        for origin in origins:
            if origin != "*" and not _ORIGIN.fullmatch(origin):
                raise ValueError(
                    f"{origin!r} is not an origin: `*`, or scheme://host[:port] such as "
                    "https://okr.example.com or http://localhost:8080"
                )
        return origins


def get_settings() -> Settings:
    """Settings as the environment says now (`serve` sets the database URL for its workers)."""
    return Settings()
