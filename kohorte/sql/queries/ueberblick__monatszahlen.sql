-- access: aggregate
-- Monthly entries, exits and participants at month end of the selection, from $start.
select
    monat,
    eintritte,
    austritte,
    aktive_am_monatsende
from marts.monatszahlen_fuer({filter_args})
where monat >= $start
order by monat
