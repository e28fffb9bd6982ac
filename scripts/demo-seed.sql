-- Demo data for `npm start` (local D1 only). Idempotent: safe to apply on every start.
INSERT OR IGNORE INTO tenants (id, name, created_at) VALUES ('ten_alpine', 'Alpine Stays GmbH', 1763700000000);

INSERT OR IGNORE INTO properties (id, tenant_id, name, time_zone, created_at) VALUES
  ('prop_seehaus', 'ten_alpine', 'Haus am See (holiday home)', 'Europe/Berlin', 1763700000000),
  ('prop_alpenblick', 'ten_alpine', 'Hotel Alpenblick', 'Europe/Vienna', 1763700000000);

INSERT OR IGNORE INTO room_types (id, tenant_id, property_id, name, units, base_price_minor, currency, created_at) VALUES
  ('rt_seehaus', 'ten_alpine', 'prop_seehaus', 'Whole house', 1, 18500, 'EUR', 1763700000000),
  ('rt_alpenblick_double', 'ten_alpine', 'prop_alpenblick', 'Double room', 5, 12900, 'EUR', 1763700000000);

INSERT OR IGNORE INTO rate_plans (id, tenant_id, property_id, room_type_id, name, created_at) VALUES
  ('rp_seehaus_standard', 'ten_alpine', 'prop_seehaus', 'rt_seehaus', 'Standard', 1763700000000),
  ('rp_alpenblick_standard', 'ten_alpine', 'prop_alpenblick', 'rt_alpenblick_double', 'Standard', 1763700000000);

INSERT OR IGNORE INTO channel_connections (id, tenant_id, property_id, platform, external_property_id, status,
  sync_direction, sync_availability, sync_pricing, sync_bookings, created_at, updated_at) VALUES
  ('con_seehaus_airbnb', 'ten_alpine', 'prop_seehaus', 'airbnb', '41000001', 'active', 'bidirectional', 1, 1, 1, 1763700000000, 1763700000000),
  ('con_seehaus_booking', 'ten_alpine', 'prop_seehaus', 'booking_com', '1500001', 'active', 'bidirectional', 1, 1, 1, 1763700000000, 1763700000000),
  ('con_alpenblick_airbnb', 'ten_alpine', 'prop_alpenblick', 'airbnb', '41000002', 'active', 'bidirectional', 1, 1, 1, 1763700000000, 1763700000000),
  ('con_alpenblick_booking', 'ten_alpine', 'prop_alpenblick', 'booking_com', '1500002', 'active', 'bidirectional', 1, 1, 1, 1763700000000, 1763700000000);

INSERT OR IGNORE INTO channel_mappings (id, tenant_id, connection_id, platform, mapping_type, internal_id, external_id, created_at, updated_at) VALUES
  ('map_seehaus_airbnb', 'ten_alpine', 'con_seehaus_airbnb', 'airbnb', 'room_type', 'rt_seehaus', '41000001', 1763700000000, 1763700000000),
  ('map_seehaus_booking', 'ten_alpine', 'con_seehaus_booking', 'booking_com', 'room_type', 'rt_seehaus', '150000101', 1763700000000, 1763700000000),
  ('map_seehaus_booking_rate', 'ten_alpine', 'con_seehaus_booking', 'booking_com', 'rate_plan', 'rp_seehaus_standard', '900001', 1763700000000, 1763700000000),
  ('map_alpenblick_airbnb', 'ten_alpine', 'con_alpenblick_airbnb', 'airbnb', 'room_type', 'rt_alpenblick_double', '41000002', 1763700000000, 1763700000000),
  ('map_alpenblick_booking', 'ten_alpine', 'con_alpenblick_booking', 'booking_com', 'room_type', 'rt_alpenblick_double', '150000201', 1763700000000, 1763700000000),
  ('map_alpenblick_booking_rate', 'ten_alpine', 'con_alpenblick_booking', 'booking_com', 'rate_plan', 'rp_alpenblick_standard', '900002', 1763700000000, 1763700000000);

-- A second agency on the North Sea coast, to see tenant isolation at work.
INSERT OR IGNORE INTO tenants (id, name, created_at) VALUES ('ten_kueste', 'Küstenliebe Ferienwohnungen', 1763700000000);
INSERT OR IGNORE INTO properties (id, tenant_id, name, time_zone, created_at) VALUES
  ('prop_duenenblick', 'ten_kueste', 'Dünenblick (holiday flat)', 'Europe/Berlin', 1763700000000);
INSERT OR IGNORE INTO room_types (id, tenant_id, property_id, name, units, base_price_minor, currency, created_at) VALUES
  ('rt_duenenblick', 'ten_kueste', 'prop_duenenblick', 'Flat', 1, 9900, 'EUR', 1763700000000);
INSERT OR IGNORE INTO channel_connections (id, tenant_id, property_id, platform, external_property_id, status,
  sync_direction, sync_availability, sync_pricing, sync_bookings, created_at, updated_at) VALUES
  ('con_duenenblick_airbnb', 'ten_kueste', 'prop_duenenblick', 'airbnb', '42000001', 'active', 'bidirectional', 1, 1, 1, 1763700000000, 1763700000000),
  ('con_duenenblick_booking', 'ten_kueste', 'prop_duenenblick', 'booking_com', '1600001', 'active', 'bidirectional', 1, 1, 1, 1763700000000, 1763700000000);
INSERT OR IGNORE INTO channel_mappings (id, tenant_id, connection_id, platform, mapping_type, internal_id, external_id, created_at, updated_at) VALUES
  ('map_duenenblick_airbnb', 'ten_kueste', 'con_duenenblick_airbnb', 'airbnb', 'room_type', 'rt_duenenblick', '42000001', 1763700000000, 1763700000000),
  ('map_duenenblick_booking', 'ten_kueste', 'con_duenenblick_booking', 'booking_com', 'room_type', 'rt_duenenblick', '160000101', 1763700000000, 1763700000000);

-- Local demo API tokens (only their SHA-256 is stored; the README lists the tokens themselves).
INSERT OR IGNORE INTO api_tokens (id, tenant_id, name, role, token_hash, token_prefix, created_at) VALUES
  ('tok_alpine_admin', 'ten_alpine', 'Demo admin token', 'admin', 'e5cc6c211921f6b35981e8bbebf315a2459607fafa1009d61072316360664956', 'cm_alpine', 1763700000000),
  ('tok_alpine_viewer', 'ten_alpine', 'Demo read-only token', 'read_only', '8e4a1a0b050a6bf111c802d604341196f3af84fb3b4bddc97c865ce2750e1db8', 'cm_alpine', 1763700000000),
  ('tok_kueste_admin', 'ten_kueste', 'Demo admin token', 'admin', 'd598f6bc6d6632b8ec85fa14860590fa71cb91d70bf27230f4e928301081f24f', 'cm_kueste', 1763700000000);
