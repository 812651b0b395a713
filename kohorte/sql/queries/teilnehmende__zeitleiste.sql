-- access: participant
-- One person's events (sessions, activities, outcomes, follow-ups), oldest first: those
-- that belong to a participation of the selection (for a coach: her own), and, without a
-- coach in the selection, also those that belong to none.
select e.datum, e.quelle, e.art, e.wert
from marts.ereignisse as e
where e.pid = $pid
    and (
        e.teilnahme_id in (
            -- her own participations only: a whole country's ids were hashed for one person
            select a.teilnahme_id from marts.auswahl({filter_args}) as a where a.pid = $pid
        )
        or (e.teilnahme_id is null and $coach::varchar is null)
    )
order by e.datum, e.quelle
