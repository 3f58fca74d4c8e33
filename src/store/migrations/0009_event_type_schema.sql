-- An event type's optional JSON Schema (PRODUCT.md §2), which event data of that type must
-- satisfy when it is posted. Null: any data is accepted.
alter table event_types add column schema jsonb;
