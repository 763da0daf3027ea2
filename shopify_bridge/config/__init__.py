"""The TOML configuration: the model (`model`), `${VAR}` expansion (`env`), single values (`values`), the
destination tables (`destinations`) and problems as one line each (`problems`).

Everything else imports the config through this package's face.
"""

from shopify_bridge.config.destinations import (
    Alerts,
    Destination,
    Ga4Destination,
    HttpDestination,
    JsonlDestination,
    MetaCapiDestination,
    SegmentDestination,
)
from shopify_bridge.config.model import (
    CONFIG_ENV_VAR,
    DEFAULT_CONFIG_FILE,
    Config,
    Exclude,
    Source,
    config_from_toml,
    config_path,
    load_config,
)

__all__ = [
    "CONFIG_ENV_VAR",
    "DEFAULT_CONFIG_FILE",
    "Alerts",
    "Config",
    "Destination",
    "Exclude",
    "Ga4Destination",
    "HttpDestination",
    "JsonlDestination",
    "MetaCapiDestination",
    "SegmentDestination",
    "Source",
    "config_from_toml",
    "config_path",
    "load_config",
]
