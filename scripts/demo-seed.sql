-- Demo data for `npm start` (local D1 only). Idempotent: safe to apply on every start.
INSERT OR IGNORE INTO tenants (id, name, created_at) VALUES ('ten_alpine', 'Alpine Stays GmbH', 1763700000000);

INSERT OR IGNORE INTO properties (id, tenant_id, name, time_zone, created_at) VALUES
  ('prop_seehaus', 'ten_alpine', 'Haus am See (holiday home)', 'Europe/Berlin', 1763700000000),
  ('prop_alpenblick', 'ten_alpine', 'Hotel Alpenblick', 'Europe/Vienna', 1763700000000);

INSERT OR IGNORE INTO room_types (id, tenant_id, property_id, name, units, base_price_minor, currency, created_at) VALUES
  ('rt_seehaus', 'ten_alpine', 'prop_seehaus', 'Whole house', 1, 18500, 'EUR', 1763700000000),
  ('rt_alpenblick_double', 'ten_alpine', 'prop_alpenblick', 'Double room', 5, 12900, 'EUR', 1763700000000);

INSERT OR IGNORE INTO channel_connections (id, tenant_id, property_id, platform, external_property_id, status,
  sync_direction, sync_availability, sync_pricing, sync_bookings, created_at, updated_at) VALUES
  ('con_seehaus_airbnb', 'ten_alpine', 'prop_seehaus', 'airbnb', '41000001', 'active', 'bidirectional', 1, 1, 1, 1763700000000, 1763700000000),
  ('con_seehaus_booking', 'ten_alpine', 'prop_seehaus', 'booking_com', '1500001', 'active', 'bidirectional', 1, 1, 1, 1763700000000, 1763700000000),
  ('con_alpenblick_airbnb', 'ten_alpine', 'prop_alpenblick', 'airbnb', '41000002', 'active', 'bidirectional', 1, 1, 1, 1763700000000, 1763700000000),
  ('con_alpenblick_booking', 'ten_alpine', 'prop_alpenblick', 'booking_com', '1500002', 'active', 'bidirectional', 1, 1, 1, 1763700000000, 1763700000000);

INSERT OR IGNORE INTO channel_mappings (id, tenant_id, connection_id, platform, mapping_type, internal_id, external_id, created_at, updated_at) VALUES
  ('map_seehaus_airbnb', 'ten_alpine', 'con_seehaus_airbnb', 'airbnb', 'room_type', 'rt_seehaus', '41000001', 1763700000000, 1763700000000),
  ('map_seehaus_booking', 'ten_alpine', 'con_seehaus_booking', 'booking_com', 'room_type', 'rt_seehaus', '150000101', 1763700000000, 1763700000000),
  ('map_seehaus_booking_rate', 'ten_alpine', 'con_seehaus_booking', 'booking_com', 'rate_plan', 'rt_seehaus', '900001', 1763700000000, 1763700000000),
  ('map_alpenblick_airbnb', 'ten_alpine', 'con_alpenblick_airbnb', 'airbnb', 'room_type', 'rt_alpenblick_double', '41000002', 1763700000000, 1763700000000),
  ('map_alpenblick_booking', 'ten_alpine', 'con_alpenblick_booking', 'booking_com', 'room_type', 'rt_alpenblick_double', '150000201', 1763700000000, 1763700000000),
  ('map_alpenblick_booking_rate', 'ten_alpine', 'con_alpenblick_booking', 'booking_com', 'rate_plan', 'rt_alpenblick_double', '900002', 1763700000000, 1763700000000);
