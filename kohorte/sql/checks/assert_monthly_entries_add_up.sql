-- de: Eintritte und Austritte je Monat ergeben zusammen alle Teilnahmen
-- en: Monthly entries and exits add up to all participations
-- Monthly entries and exits add up to the participations they come from (plus those
-- retention deleted, kept as monthly totals in meta.archive_monatszahlen).
select
    (select sum(eintritte) from marts.monatszahlen) as eintritte_monate,
    (select count(*) from marts.teilnahmen)
        + (select coalesce(sum(eintritte), 0) from meta.archive_monatszahlen) as teilnahmen,
    (select sum(austritte) from marts.monatszahlen) as austritte_monate,
    (select count(austritt) from marts.teilnahmen)
        + (select coalesce(sum(austritte), 0) from meta.archive_monatszahlen) as austritte
where eintritte_monate <> teilnahmen or austritte_monate <> austritte
