//! Wire size of values crossing the sandbox boundary, for the input and
//! output caps: string and byte lengths plus 8 bytes per scalar, counted
//! without serializing anything.

pub trait WireSize {
    fn wire_size(&self) -> u64;
}

impl WireSize for String {
    fn wire_size(&self) -> u64 {
        self.len() as u64 + 8
    }
}

impl WireSize for str {
    fn wire_size(&self) -> u64 {
        self.len() as u64 + 8
    }
}

macro_rules! scalar {
    ($($t:ty),*) => {$(
        impl WireSize for $t {
            fn wire_size(&self) -> u64 { 8 }
        }
    )*};
}
scalar!(u32, u64, i64, bool);

impl<T: WireSize + ?Sized> WireSize for &T {
    fn wire_size(&self) -> u64 {
        (**self).wire_size()
    }
}

impl<T: WireSize> WireSize for Option<T> {
    fn wire_size(&self) -> u64 {
        8 + self.as_ref().map_or(0, WireSize::wire_size)
    }
}

impl<T: WireSize> WireSize for Vec<T> {
    fn wire_size(&self) -> u64 {
        8 + self.iter().map(WireSize::wire_size).sum::<u64>()
    }
}

impl<A: WireSize, B: WireSize> WireSize for (A, B) {
    fn wire_size(&self) -> u64 {
        self.0.wire_size() + self.1.wire_size()
    }
}

/// `WireSize` for a record: the sum of its fields.
macro_rules! record_size {
    ($($t:ty { $($f:ident),* })*) => {$(
        impl $crate::runtime::size::WireSize for $t {
            fn wire_size(&self) -> u64 {
                0 $(+ $crate::runtime::size::WireSize::wire_size(&self.$f))*
            }
        }
    )*};
}
pub(crate) use record_size;

use super::wit;

record_size! {
    wit::Money { amount, currency }
    wit::Address { name, line1, line2, city, region, postal_code, country }
    wit::Customer { id, email, tags, tax_exempt, vat_id }
    wit::CartLine { id, product_id, variant_id, sku, quantity, unit_price, tags, collections, tax_code, weight_grams }
}
