-- access: status
-- Deliveries of the load that built this version which were refused or only partly
-- loaded: the team lead's notice on the Überblick (older runs' problems were seen then).
select
    delivery_id,
    file_name,
    status,
    rows_accepted,
    rows_rejected,
    message,
    report
from meta.load_files
where
    run_id = (select run_id from meta.build)
    and status in ('quarantined', 'partial')
order by delivery_id
