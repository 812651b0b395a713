-- Running on a day: entered by then and not yet left (an exit on that day still runs).
-- The one rule for the KPI "Aktive Teilnehmende" (on its reference day), the attention
-- list and the caseload (heute__laufend, on the as-of date) and the running events table.
create or replace macro marts.laeuft(eintritt, austritt, tag) as
    eintritt <= tag and coalesce(austritt, tag) >= tag
