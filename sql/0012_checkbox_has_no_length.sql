-- A checkbox has no length: drop the max_length that forms saved before this rule carried for it,
-- so every stored form reads back through the schema that validates new ones.

UPDATE sites
SET form = jsonb_set(
    form,
    '{fields}',
    (SELECT jsonb_agg(CASE WHEN f ->> 'type' = 'checkbox' THEN f - 'max_length' ELSE f END
                      ORDER BY n)
     FROM jsonb_array_elements(form -> 'fields') WITH ORDINALITY AS t (f, n))
)
WHERE form -> 'fields' @> '[{"type": "checkbox"}]';
