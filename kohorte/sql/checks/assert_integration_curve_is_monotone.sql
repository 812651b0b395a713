-- de: Die Integrationskurven fallen nie und bleiben zwischen 0 und 100 %
-- en: The integration curves never fall and stay between 0 and 100%
-- The Kaplan-Meier curve of marts.integrationsverlauf never falls and stays within 0 and 1.
select kohorte, tage, anteil_integriert
from (
    select
        *,
        lag(anteil_integriert) over (partition by kohorte order by tage) as vorher
    from marts.integrationsverlauf
)
where anteil_integriert < coalesce(vorher, 0) - 1e-9
    or anteil_integriert < 0
    or anteil_integriert > 1
