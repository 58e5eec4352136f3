"""The sandbox's learning catalogs: what the learning_resources location feeds MIT Learn from.

MIT Climate Portal articles (paginated JSON), MIT Professional Education courses and programs
(JSON feeds), Open Learning Library courses (CSV), MIT Sloan Executive Education courses and
offerings (OAuth2 client credentials) and Open Video Studio's public videos (a paginated list plus
one detail call per video), deterministic from an `Institution` and changeable while served.

Modules: `.data` (the records and the knobs tests turn: `update`, `delete`, `add_ovs_video`),
`.routes` (`LearnSourcesApi`, mounted at `/learn_sources/`). MIT's edX.org programs come from the
edX.org catalog (`ol_sandbox.edxorg`), not from here.
"""

from ol_sandbox.learn_sources.data import (
    SOURCE_ID_FIELDS,
    LearnSourcesData,
    UnknownRecordError,
    ovs_video,
)
from ol_sandbox.learn_sources.routes import (
    LEARN_SOURCES_PREFIX,
    OLL_CSV_COLUMNS,
    SLOAN_CLIENT_ID,
    SLOAN_CLIENT_SECRET,
    LearnSourcesApi,
)

__all__ = [
    "LEARN_SOURCES_PREFIX",
    "OLL_CSV_COLUMNS",
    "SLOAN_CLIENT_ID",
    "SLOAN_CLIENT_SECRET",
    "SOURCE_ID_FIELDS",
    "LearnSourcesApi",
    "LearnSourcesData",
    "UnknownRecordError",
    "ovs_video",
]
