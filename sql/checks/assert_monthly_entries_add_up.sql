-- Monthly entries and exits add up to the participations they come from.
select
    (select sum(eintritte) from marts.monatszahlen) as eintritte_monate,
    (select count(*) from marts.teilnahmen) as teilnahmen,
    (select sum(austritte) from marts.monatszahlen) as austritte_monate,
    (select count(austritt) from marts.teilnahmen) as austritte
where eintritte_monate <> teilnahmen or austritte_monate <> austritte
