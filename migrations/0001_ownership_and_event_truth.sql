CREATE TABLE `booking_changes` (
	`id` text PRIMARY KEY NOT NULL,
	`tenant_id` text NOT NULL,
	`booking_id` text NOT NULL,
	`event_key` text NOT NULL,
	`outcome` text NOT NULL,
	`status` text NOT NULL,
	`check_in` text NOT NULL,
	`check_out` text NOT NULL,
	`channel_revision` integer NOT NULL,
	`created_at` integer NOT NULL,
	FOREIGN KEY (`tenant_id`) REFERENCES `tenants`(`id`) ON UPDATE no action ON DELETE no action,
	FOREIGN KEY (`booking_id`) REFERENCES `bookings`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE UNIQUE INDEX `booking_changes_booking_event_uq` ON `booking_changes` (`booking_id`,`event_key`);--> statement-breakpoint
CREATE INDEX `booking_changes_event_idx` ON `booking_changes` (`event_key`);--> statement-breakpoint
ALTER TABLE `channel_mappings` ADD `external_scope` text DEFAULT '' NOT NULL;--> statement-breakpoint
ALTER TABLE `channel_mappings` ADD `status` text DEFAULT 'confirmed' NOT NULL;--> statement-breakpoint
ALTER TABLE `channel_mappings` ADD `verified_at` integer;--> statement-breakpoint
ALTER TABLE `channel_mappings` ADD `verification_error` text;--> statement-breakpoint
ALTER TABLE `channel_mappings` ADD `next_verify_at` integer;--> statement-breakpoint
-- Data: before the owner index can exist, no platform id may be live twice. Hand-written (not drizzle-kit).
-- 1. A deleted connection's mappings are deleted with it (they must not keep holding ids).
UPDATE `channel_mappings` SET `deleted_at` = (SELECT `deleted_at` FROM `channel_connections` c WHERE c.`id` = `channel_mappings`.`connection_id`), `updated_at` = CAST(strftime('%s','now') AS INTEGER) * 1000
WHERE `deleted_at` IS NULL AND `connection_id` IN (SELECT `id` FROM `channel_connections` WHERE `deleted_at` IS NOT NULL);--> statement-breakpoint
-- 2. Ids a platform scopes within one property (Google room and rate codes, Beds24 price slots).
UPDATE `channel_mappings` SET `external_scope` = `connection_id`
WHERE (`platform` = 'google' AND `mapping_type` IN ('room_type', 'rate_plan')) OR (`platform` = 'beds24' AND `mapping_type` = 'rate_plan');--> statement-breakpoint
-- 3. A platform id live on several connections: nobody can tell the owner from here, so none keeps it.
-- Each is refused (soft-deleted) with an alert to its tenant; the owner maps it again, and the platform confirms it.
INSERT INTO `alerts` (`id`, `tenant_id`, `kind`, `severity`, `message`, `details`, `dedupe_key`, `occurrences`, `created_at`, `last_seen_at`)
SELECT 'alr_' || lower(hex(randomblob(10))), m.`tenant_id`, 'mapping_refused', 'critical',
  'mapping ' || m.`id` || ' (' || m.`platform` || ' ' || m.`mapping_type` || ' ' || m.`external_id` || ') was removed: the id was also mapped elsewhere; map it again so the platform can confirm it is yours',
  json_object('mappingId', m.`id`, 'connectionId', m.`connection_id`), 'mapping_refused:' || m.`id`, 1,
  CAST(strftime('%s','now') AS INTEGER) * 1000, CAST(strftime('%s','now') AS INTEGER) * 1000
FROM `channel_mappings` m
WHERE m.`deleted_at` IS NULL AND EXISTS (SELECT 1 FROM `channel_mappings` o WHERE o.`deleted_at` IS NULL AND o.`id` <> m.`id`
  AND o.`platform` = m.`platform` AND o.`mapping_type` = m.`mapping_type` AND o.`external_scope` = m.`external_scope` AND o.`external_id` = m.`external_id`);--> statement-breakpoint
UPDATE `channel_mappings` SET `status` = 'refused', `verification_error` = 'the id was also mapped on another connection when ownership checks arrived',
  `deleted_at` = CAST(strftime('%s','now') AS INTEGER) * 1000, `updated_at` = CAST(strftime('%s','now') AS INTEGER) * 1000
WHERE `id` IN (SELECT json_extract(a.`details`, '$.mappingId') FROM `alerts` a WHERE a.`kind` = 'mapping_refused' AND a.`dedupe_key` = 'mapping_refused:' || json_extract(a.`details`, '$.mappingId'));--> statement-breakpoint
-- 4. Every mapping made before these checks is asked about once (it keeps syncing meanwhile).
UPDATE `channel_mappings` SET `next_verify_at` = 0 WHERE `deleted_at` IS NULL;--> statement-breakpoint
CREATE UNIQUE INDEX `channel_mappings_owner_uq` ON `channel_mappings` (`platform`,`mapping_type`,`external_scope`,`external_id`) WHERE deleted_at IS NULL;--> statement-breakpoint
CREATE INDEX `channel_mappings_verify_idx` ON `channel_mappings` (`next_verify_at`);--> statement-breakpoint
ALTER TABLE `channel_events` ADD `delivery_ids` text DEFAULT '[]' NOT NULL;