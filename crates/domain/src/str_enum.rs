//! `str_enum!`: a fieldless enum's stored names, written once.

/// Gives a fieldless enum `as_str` (its stored and wire name) and `parse` (the variant a name
/// stands for) from one table, so the two directions cannot disagree. The enum's own
/// declaration, derives and docs stay where they are; other methods go in their own `impl`.
macro_rules! str_enum {
    ($ty:ident { $($variant:ident => $name:literal),+ $(,)? }) => {
        impl $ty {
            /// The stored (and wire) name.
            pub fn as_str(self) -> &'static str {
                match self {
                    $($ty::$variant => $name,)+
                }
            }

            /// The variant `s` names, if any.
            pub fn parse(s: &str) -> Option<Self> {
                match s {
                    $($name => Some($ty::$variant),)+
                    _ => None,
                }
            }
        }
    };
}
