-- access: status
-- A report's data quality: the deliveries taken in so far and those received within the
-- report's span ($von to $bis, by the day received in Europe/Berlin), their lines
-- accepted and rejected, and the data checks that warned in this build.
with

lieferungen as (
    select
        *,
        (received_at::timestamptz at time zone 'Europe/Berlin')::date between $von and $bis
            as im_zeitraum
    from meta.deliveries
)

select
    count(*) as lieferungen,
    coalesce(sum(rows_accepted), 0) as zeilen_angenommen,
    coalesce(sum(rows_rejected), 0) as zeilen_abgelehnt,
    count(*) filter (where im_zeitraum) as lieferungen_zeitraum,
    coalesce(sum(rows_accepted) filter (where im_zeitraum), 0) as zeilen_angenommen_zeitraum,
    coalesce(sum(rows_rejected) filter (where im_zeitraum), 0) as zeilen_abgelehnt_zeitraum,
    (select count(*) from meta.checks where not passed and severity = 'warn') as warnungen
from lieferungen
