// Web booking as the outage strip, the checklist and the card dialog share it (issue 17):
// which card is open (stopping or reopening by hand), and a counter bumped after every
// booking action so each of them reloads what it shows.
export const bookingUi = $state<{ card: 'stop' | 'reopen' | null; version: number }>({
  card: null,
  version: 0,
});

/** Open the owner's card on its stop or reopen steps. */
export function openBookingCard(mode: 'stop' | 'reopen'): void {
  bookingUi.card = mode;
}

/** Something changed web booking: the strip and the checklist reload. */
export function bookingChanged(): void {
  bookingUi.version += 1;
}
