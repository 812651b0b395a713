-- access: status
-- The latest runs of the nightly load, newest first.
select
    run_id,
    status,
    started_at,
    files_total,
    files_loaded,
    files_partial,
    files_quarantined,
    files_duplicate,
    coalesce(files_deferred, 0) as files_deferred,
    rows_accepted,
    rows_rejected,
    -- read by name from the row: a version built before the column existed (published
    -- by an older Kohorte, until the next night rebuilds it) has none, and shows none
    to_json(l) ->> 'build_mode' as build_mode,
    coalesce(seconds_ingest, 0) + coalesce(seconds_build, 0) as sekunden
from meta.load_log as l
order by run_id desc
limit $limit
