//! Identifier newtypes: a seat id cannot be passed where a user id is expected.

use std::fmt;

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(pub i64);

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }
    };
}

id_type!(
    /// A registered user.
    UserId
);
id_type!(
    /// A concert in the catalogue.
    ConcertId
);
id_type!(
    /// One performance (date and time) of a concert.
    ScheduleId
);
id_type!(
    /// One seat of one schedule.
    SeatId
);
id_type!(
    /// A hold on a seat, later confirmed by a payment.
    ReservationId
);
id_type!(
    /// A completed payment.
    PaymentId
);
id_type!(
    /// A place on a schedule's waiting list.
    WaitlistEntryId
);
