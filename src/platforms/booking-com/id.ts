/** Booking.com's platform id. */
export const BOOKING_COM = "booking_com" as const;
