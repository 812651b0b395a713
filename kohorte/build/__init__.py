"""From the raw store to a published warehouse: staging, marts and checks from the
packaged SQL, the analysts' copy beside it (``analyst``), and the atomic publish
(``warehouse``). Reads the store; never the inbox."""
