"""Running Kohorte as a service: accounts and audit log, alerts, the nightly schedule,
and the supervisor that starts the Prefect server, worker and dashboard (``service``)."""
