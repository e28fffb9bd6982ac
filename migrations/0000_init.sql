CREATE TABLE `booking_nights` (
	`booking_id` text NOT NULL,
	`tenant_id` text NOT NULL,
	`room_type_id` text NOT NULL,
	`night` text NOT NULL,
	PRIMARY KEY(`booking_id`, `night`),
	FOREIGN KEY (`booking_id`) REFERENCES `bookings`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE INDEX `booking_nights_room_night_idx` ON `booking_nights` (`room_type_id`,`night`);--> statement-breakpoint
CREATE TABLE `bookings` (
	`id` text PRIMARY KEY NOT NULL,
	`tenant_id` text NOT NULL,
	`property_id` text NOT NULL,
	`room_type_id` text,
	`connection_id` text,
	`external_room_id` text,
	`source` text NOT NULL,
	`channel_booking_id` text NOT NULL,
	`status` text NOT NULL,
	`check_in` text NOT NULL,
	`check_out` text NOT NULL,
	`guest_name` text,
	`guest_count` integer,
	`amount_minor` integer,
	`currency` text,
	`version` integer DEFAULT 1 NOT NULL,
	`channel_revision` integer NOT NULL,
	`conflict_reason` text,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL,
	FOREIGN KEY (`tenant_id`) REFERENCES `tenants`(`id`) ON UPDATE no action ON DELETE no action,
	FOREIGN KEY (`property_id`) REFERENCES `properties`(`id`) ON UPDATE no action ON DELETE no action,
	FOREIGN KEY (`room_type_id`) REFERENCES `room_types`(`id`) ON UPDATE no action ON DELETE no action,
	FOREIGN KEY (`connection_id`) REFERENCES `channel_connections`(`id`) ON UPDATE no action ON DELETE no action,
	CONSTRAINT "bookings_dates_ordered" CHECK("bookings"."check_out" > "bookings"."check_in")
);
--> statement-breakpoint
CREATE UNIQUE INDEX `bookings_source_channel_id_uq` ON `bookings` (`source`,`channel_booking_id`);--> statement-breakpoint
CREATE INDEX `bookings_tenant_property_idx` ON `bookings` (`tenant_id`,`property_id`,`check_in`);--> statement-breakpoint
CREATE TABLE `inventory_nights` (
	`tenant_id` text NOT NULL,
	`room_type_id` text NOT NULL,
	`night` text NOT NULL,
	`capacity` integer NOT NULL,
	`booked` integer DEFAULT 0 NOT NULL,
	`blocked` integer DEFAULT 0 NOT NULL,
	`price_minor` integer,
	`updated_at` integer NOT NULL,
	PRIMARY KEY(`room_type_id`, `night`),
	FOREIGN KEY (`tenant_id`) REFERENCES `tenants`(`id`) ON UPDATE no action ON DELETE no action,
	FOREIGN KEY (`room_type_id`) REFERENCES `room_types`(`id`) ON UPDATE no action ON DELETE no action,
	CONSTRAINT "inventory_nights_within_capacity" CHECK("inventory_nights"."booked" >= 0 AND "inventory_nights"."blocked" >= 0 AND "inventory_nights"."booked" + "inventory_nights"."blocked" <= "inventory_nights"."capacity")
);
--> statement-breakpoint
CREATE TABLE `write_guards` (
	`token` text PRIMARY KEY NOT NULL,
	`ok` integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE `channel_connections` (
	`id` text PRIMARY KEY NOT NULL,
	`tenant_id` text NOT NULL,
	`property_id` text NOT NULL,
	`platform` text NOT NULL,
	`external_property_id` text NOT NULL,
	`status` text DEFAULT 'pending' NOT NULL,
	`sync_direction` text DEFAULT 'bidirectional' NOT NULL,
	`sync_availability` integer DEFAULT true NOT NULL,
	`sync_pricing` integer DEFAULT true NOT NULL,
	`sync_bookings` integer DEFAULT true NOT NULL,
	`last_webhook_at` integer,
	`last_outbound_success_at` integer,
	`last_error` text,
	`credentials_ciphertext` text,
	`credentials_key_id` text,
	`gate_settings` text,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL,
	`deleted_at` integer,
	FOREIGN KEY (`tenant_id`) REFERENCES `tenants`(`id`) ON UPDATE no action ON DELETE no action,
	FOREIGN KEY (`property_id`) REFERENCES `properties`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE UNIQUE INDEX `channel_connections_property_platform_uq` ON `channel_connections` (`property_id`,`platform`) WHERE deleted_at IS NULL;--> statement-breakpoint
CREATE UNIQUE INDEX `channel_connections_platform_external_uq` ON `channel_connections` (`platform`,`external_property_id`) WHERE deleted_at IS NULL;--> statement-breakpoint
CREATE INDEX `channel_connections_tenant_idx` ON `channel_connections` (`tenant_id`,`property_id`);--> statement-breakpoint
CREATE TABLE `channel_mappings` (
	`id` text PRIMARY KEY NOT NULL,
	`tenant_id` text NOT NULL,
	`connection_id` text NOT NULL,
	`platform` text NOT NULL,
	`mapping_type` text NOT NULL,
	`internal_id` text NOT NULL,
	`external_id` text NOT NULL,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL,
	`deleted_at` integer,
	FOREIGN KEY (`tenant_id`) REFERENCES `tenants`(`id`) ON UPDATE no action ON DELETE no action,
	FOREIGN KEY (`connection_id`) REFERENCES `channel_connections`(`id`) ON UPDATE no action ON DELETE no action,
	CONSTRAINT "channel_mappings_external_not_empty" CHECK(length("channel_mappings"."external_id") > 0)
);
--> statement-breakpoint
CREATE UNIQUE INDEX `channel_mappings_internal_uq` ON `channel_mappings` (`connection_id`,`mapping_type`,`internal_id`) WHERE deleted_at IS NULL;--> statement-breakpoint
CREATE UNIQUE INDEX `channel_mappings_external_uq` ON `channel_mappings` (`connection_id`,`mapping_type`,`external_id`) WHERE deleted_at IS NULL;--> statement-breakpoint
CREATE INDEX `channel_mappings_lookup_idx` ON `channel_mappings` (`platform`,`mapping_type`,`external_id`);--> statement-breakpoint
CREATE TABLE `alerts` (
	`id` text PRIMARY KEY NOT NULL,
	`tenant_id` text,
	`kind` text NOT NULL,
	`severity` text NOT NULL,
	`message` text NOT NULL,
	`details` text,
	`dedupe_key` text NOT NULL,
	`occurrences` integer DEFAULT 1 NOT NULL,
	`created_at` integer NOT NULL,
	`last_seen_at` integer NOT NULL,
	`acknowledged_at` integer
);
--> statement-breakpoint
CREATE UNIQUE INDEX `alerts_dedupe_uq` ON `alerts` (`dedupe_key`);--> statement-breakpoint
CREATE INDEX `alerts_tenant_idx` ON `alerts` (`tenant_id`,`created_at`);--> statement-breakpoint
CREATE TABLE `channel_events` (
	`id` text PRIMARY KEY NOT NULL,
	`tenant_id` text,
	`connection_id` text,
	`property_id` text,
	`platform` text NOT NULL,
	`direction` text NOT NULL,
	`event_type` text NOT NULL,
	`idempotency_key` text NOT NULL,
	`entity_external_id` text,
	`status` text DEFAULT 'received' NOT NULL,
	`attempts` integer DEFAULT 0 NOT NULL,
	`lease_until` integer,
	`duplicates` integer DEFAULT 0 NOT NULL,
	`last_error` text,
	`attempt_log` text DEFAULT '[]' NOT NULL,
	`outcome` text,
	`received_at` integer NOT NULL,
	`processed_at` integer,
	`updated_at` integer NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `channel_events_idempotency_uq` ON `channel_events` (`idempotency_key`);--> statement-breakpoint
CREATE INDEX `channel_events_status_idx` ON `channel_events` (`status`,`received_at`);--> statement-breakpoint
CREATE INDEX `channel_events_tenant_idx` ON `channel_events` (`tenant_id`,`received_at`);--> statement-breakpoint
CREATE INDEX `channel_events_connection_idx` ON `channel_events` (`connection_id`,`status`,`updated_at`);--> statement-breakpoint
CREATE INDEX `channel_events_unmapped_idx` ON `channel_events` (`platform`,`entity_external_id`,`status`);--> statement-breakpoint
CREATE INDEX `channel_events_tenant_updated_idx` ON `channel_events` (`tenant_id`,`updated_at`);--> statement-breakpoint
CREATE TABLE `dead_letters` (
	`id` text PRIMARY KEY NOT NULL,
	`queue` text NOT NULL,
	`message_id` text NOT NULL,
	`tenant_id` text,
	`connection_id` text,
	`platform` text,
	`idempotency_key` text,
	`body` text NOT NULL,
	`error` text,
	`attempts` integer NOT NULL,
	`attempt_log` text DEFAULT '[]' NOT NULL,
	`created_at` integer NOT NULL,
	`resolved_at` integer,
	`resolution` text,
	`resolution_note` text
);
--> statement-breakpoint
CREATE UNIQUE INDEX `dead_letters_queue_message_uq` ON `dead_letters` (`queue`,`message_id`);--> statement-breakpoint
CREATE INDEX `dead_letters_tenant_idx` ON `dead_letters` (`tenant_id`,`created_at`);--> statement-breakpoint
CREATE INDEX `dead_letters_connection_idx` ON `dead_letters` (`connection_id`,`resolved_at`);--> statement-breakpoint
CREATE INDEX `dead_letters_key_idx` ON `dead_letters` (`idempotency_key`);--> statement-breakpoint
CREATE TABLE `job_leases` (
	`name` text PRIMARY KEY NOT NULL,
	`holder` text NOT NULL,
	`lease_until` integer NOT NULL,
	`last_run_at` integer,
	`last_result` text
);
--> statement-breakpoint
CREATE TABLE `outbox` (
	`id` text PRIMARY KEY NOT NULL,
	`tenant_id` text NOT NULL,
	`property_id` text NOT NULL,
	`room_type_id` text NOT NULL,
	`start_date` text NOT NULL,
	`end_date` text NOT NULL,
	`source_platform` text,
	`include_source` integer DEFAULT false NOT NULL,
	`cause_key` text NOT NULL,
	`aspect` text DEFAULT 'availability' NOT NULL,
	`created_at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `outbox_cause_idx` ON `outbox` (`cause_key`);--> statement-breakpoint
CREATE INDEX `outbox_created_idx` ON `outbox` (`created_at`);--> statement-breakpoint
CREATE TABLE `sync_logs` (
	`id` text PRIMARY KEY NOT NULL,
	`tenant_id` text NOT NULL,
	`connection_id` text NOT NULL,
	`event_id` text,
	`sync_type` text NOT NULL,
	`direction` text NOT NULL,
	`status` text NOT NULL,
	`records_processed` integer DEFAULT 0 NOT NULL,
	`retry_count` integer DEFAULT 0 NOT NULL,
	`max_retries` integer DEFAULT 5 NOT NULL,
	`error` text,
	`details` text,
	`triggered_at` integer NOT NULL,
	`started_at` integer,
	`finished_at` integer,
	`deadletter_at` integer,
	`duration_ms` integer
);
--> statement-breakpoint
CREATE INDEX `sync_logs_connection_idx` ON `sync_logs` (`tenant_id`,`connection_id`,`triggered_at`);--> statement-breakpoint
CREATE INDEX `sync_logs_event_idx` ON `sync_logs` (`event_id`);--> statement-breakpoint
CREATE INDEX `sync_logs_status_idx` ON `sync_logs` (`status`,`triggered_at`);--> statement-breakpoint
CREATE TABLE `webhook_log` (
	`id` text PRIMARY KEY NOT NULL,
	`platform` text NOT NULL,
	`event_id` text NOT NULL,
	`tenant_id` text,
	`payload` text NOT NULL,
	`signature` text,
	`status` text DEFAULT 'pending' NOT NULL,
	`processed_at` integer,
	`error` text,
	`received_at` integer NOT NULL,
	`created_at` integer NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `webhook_log_platform_event_uq` ON `webhook_log` (`platform`,`event_id`);--> statement-breakpoint
CREATE INDEX `webhook_log_platform_created_idx` ON `webhook_log` (`platform`,`created_at`);--> statement-breakpoint
CREATE INDEX `webhook_log_tenant_received_idx` ON `webhook_log` (`tenant_id`,`received_at`);--> statement-breakpoint
CREATE TABLE `api_tokens` (
	`id` text PRIMARY KEY NOT NULL,
	`tenant_id` text NOT NULL,
	`name` text NOT NULL,
	`role` text NOT NULL,
	`token_hash` text NOT NULL,
	`token_prefix` text NOT NULL,
	`created_at` integer NOT NULL,
	`last_used_at` integer,
	`revoked_at` integer,
	FOREIGN KEY (`tenant_id`) REFERENCES `tenants`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE UNIQUE INDEX `api_tokens_hash_uq` ON `api_tokens` (`token_hash`);--> statement-breakpoint
CREATE INDEX `api_tokens_tenant_idx` ON `api_tokens` (`tenant_id`);--> statement-breakpoint
CREATE TABLE `properties` (
	`id` text PRIMARY KEY NOT NULL,
	`tenant_id` text NOT NULL,
	`name` text NOT NULL,
	`time_zone` text NOT NULL,
	`created_at` integer NOT NULL,
	FOREIGN KEY (`tenant_id`) REFERENCES `tenants`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE INDEX `properties_tenant_idx` ON `properties` (`tenant_id`);--> statement-breakpoint
CREATE TABLE `rate_plans` (
	`id` text PRIMARY KEY NOT NULL,
	`tenant_id` text NOT NULL,
	`property_id` text NOT NULL,
	`room_type_id` text NOT NULL,
	`name` text NOT NULL,
	`created_at` integer NOT NULL,
	FOREIGN KEY (`tenant_id`) REFERENCES `tenants`(`id`) ON UPDATE no action ON DELETE no action,
	FOREIGN KEY (`property_id`) REFERENCES `properties`(`id`) ON UPDATE no action ON DELETE no action,
	FOREIGN KEY (`room_type_id`) REFERENCES `room_types`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE INDEX `rate_plans_property_idx` ON `rate_plans` (`tenant_id`,`property_id`);--> statement-breakpoint
CREATE UNIQUE INDEX `rate_plans_room_type_name_uq` ON `rate_plans` (`room_type_id`,`name`);--> statement-breakpoint
CREATE TABLE `room_types` (
	`id` text PRIMARY KEY NOT NULL,
	`tenant_id` text NOT NULL,
	`property_id` text NOT NULL,
	`name` text NOT NULL,
	`units` integer NOT NULL,
	`base_price_minor` integer,
	`currency` text,
	`created_at` integer NOT NULL,
	FOREIGN KEY (`tenant_id`) REFERENCES `tenants`(`id`) ON UPDATE no action ON DELETE no action,
	FOREIGN KEY (`property_id`) REFERENCES `properties`(`id`) ON UPDATE no action ON DELETE no action,
	CONSTRAINT "room_types_units_positive" CHECK("room_types"."units" >= 1)
);
--> statement-breakpoint
CREATE INDEX `room_types_property_idx` ON `room_types` (`tenant_id`,`property_id`);--> statement-breakpoint
CREATE UNIQUE INDEX `room_types_property_name_uq` ON `room_types` (`property_id`,`name`);--> statement-breakpoint
CREATE TABLE `tenants` (
	`id` text PRIMARY KEY NOT NULL,
	`name` text NOT NULL,
	`created_at` integer NOT NULL
);
