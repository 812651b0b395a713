"""What the nightly run keeps on disk between nights: the raw store of pseudonymised
deliveries with its manifest (``rawstore``), the run log (``runlog``), crash-safe file
writes (``files``) and the DuckDB helpers and packaged SQL (``db``). Knows no stage."""
