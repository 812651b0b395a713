"""Kohorte: programme cockpit for job-coaching programmes in German Jobcenters.

The core package holds all logic, one sub-package per stage (docs/architecture.md);
``flows/`` (Prefect) and ``dashboard/`` (Streamlit) are thin
shells over it. Nothing in here imports streamlit or prefect.
"""

__version__ = "0.1.0"
