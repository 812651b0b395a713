-- The dashboard's selection of participations: every filtered view reads
-- marts.auswahl(...) instead of marts.teilnahmen. Parameters and predicate are generated
-- from the one list of dimensions (kohorte/define/dimensions.py); a null argument means "all", so
-- the whole programme is the same query with no predicate.
create or replace macro marts.auswahl({filter_params}) as table
select t.*
from marts.teilnahmen as t
where {filter_predicate}
