-- The dashboard's selection of participations (kohorte/filters.py): every filtered view
-- reads marts.auswahl(...) instead of marts.teilnahmen, so the filter predicate exists
-- exactly once. A null argument means "all". A cohort is an entry month (YYYY-MM) or an
-- ISO entry week (YYYY-Www).
create or replace macro marts.auswahl(
    p_von, p_bis, p_standort, p_coach, p_kohorte, p_geschlecht, p_lzb
) as table
select t.*
from marts.teilnahmen as t
where (p_von is null or t.eintritt >= p_von)
    and (p_bis is null or t.eintritt <= p_bis)
    and (p_standort is null or t.standort = p_standort)
    and (p_coach is null or t.coach = p_coach)
    and (p_kohorte is null or p_kohorte in (t.kohorte_monat, t.kohorte_woche))
    and (p_geschlecht is null or t.geschlecht = p_geschlecht)
    and (p_lzb is null or t.langzeitleistungsbezug = p_lzb)
