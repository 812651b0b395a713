-- access: status
-- Files of the latest runs with their outcome, newest first.
select
    delivery_id,
    file_name,
    kind,
    status,
    encoding,
    rows_accepted,
    rows_rejected,
    message,
    report
from meta.load_files
order by run_id desc, delivery_id
limit $limit
