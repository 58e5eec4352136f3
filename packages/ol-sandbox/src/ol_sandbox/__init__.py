"""Local emulators of the platform's source systems over deterministic synthetic data.

For dev and tests only: production code must never import this package.
"""

from ol_sandbox.data import DEFAULT_DEPLOYMENTS, SIZES, Institution
from ol_sandbox.faults import FaultConfig
from ol_sandbox.server import SandboxServer

__all__ = ["DEFAULT_DEPLOYMENTS", "SIZES", "FaultConfig", "Institution", "SandboxServer"]
