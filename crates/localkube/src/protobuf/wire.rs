//! A minimal protobuf wire-format reader: field keys, varints, 64-bit and
//! 32-bit fixed values and length-delimited bytes. It never panics; running
//! off the end of the buffer is [`ProtobufError::Truncated`].

use super::ProtobufError;

/// One field value as it appears on the wire.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Wire<'a> {
    /// Wire type 0.
    Varint(u64),
    /// Wire type 1 (no supported field has this type: skipped, value unread).
    Fixed64,
    /// Wire type 2: strings, bytes, messages, packed repeated scalars.
    Bytes(&'a [u8]),
    /// Wire type 5 (no supported field has this type: skipped, value unread).
    Fixed32,
}

impl Wire<'_> {
    /// The protobuf wire type number, for error messages.
    pub(crate) fn type_number(&self) -> u8 {
        match self {
            Wire::Varint(_) => 0,
            Wire::Fixed64 => 1,
            Wire::Bytes(_) => 2,
            Wire::Fixed32 => 5,
        }
    }
}

/// Reads the fields of one message, in order.
pub(crate) struct Reader<'a> {
    buf: &'a [u8],
}

impl<'a> Reader<'a> {
    pub(crate) fn new(buf: &'a [u8]) -> Self {
        Reader { buf }
    }

    /// Whether all bytes have been consumed.
    pub(crate) fn is_empty(&self) -> bool {
        self.buf.is_empty()
    }

    /// The next field as (field number, value), or `None` at the end.
    pub(crate) fn next_field(&mut self) -> Result<Option<(u32, Wire<'a>)>, ProtobufError> {
        if self.buf.is_empty() {
            return Ok(None);
        }
        let key = self.varint()?;
        let tag = key >> 3;
        if tag == 0 || tag > u64::from(u32::MAX >> 3) {
            return Err(ProtobufError::malformed(format!(
                "invalid field number {tag}"
            )));
        }
        // Checked just above: the tag fits in 29 bits.
        let tag = tag as u32;
        let value = match key & 7 {
            0 => Wire::Varint(self.varint()?),
            1 => {
                self.skip(8)?;
                Wire::Fixed64
            }
            2 => {
                let len = self.varint()?;
                let len = usize::try_from(len)
                    .ok()
                    .filter(|len| *len <= self.buf.len())
                    .ok_or_else(|| ProtobufError::truncated("length-delimited field"))?;
                let (bytes, rest) = self.buf.split_at(len);
                self.buf = rest;
                Wire::Bytes(bytes)
            }
            5 => {
                self.skip(4)?;
                Wire::Fixed32
            }
            3 | 4 => {
                return Err(ProtobufError::malformed(format!(
                    "field {tag} uses the deprecated group wire type"
                )));
            }
            other => {
                return Err(ProtobufError::malformed(format!(
                    "field {tag} has invalid wire type {other}"
                )));
            }
        };
        Ok(Some((tag, value)))
    }

    /// A base-128 varint of at most 10 bytes.
    pub(crate) fn varint(&mut self) -> Result<u64, ProtobufError> {
        let mut value: u64 = 0;
        for i in 0..10 {
            let Some((&byte, rest)) = self.buf.split_first() else {
                return Err(ProtobufError::truncated("varint"));
            };
            self.buf = rest;
            if i == 9 && byte > 1 {
                return Err(ProtobufError::malformed("varint overflows 64 bits"));
            }
            value |= u64::from(byte & 0x7f) << (7 * i);
            if byte & 0x80 == 0 {
                return Ok(value);
            }
        }
        Err(ProtobufError::malformed("varint longer than 10 bytes"))
    }

    fn skip(&mut self, len: usize) -> Result<(), ProtobufError> {
        let rest = self
            .buf
            .get(len..)
            .ok_or_else(|| ProtobufError::truncated("fixed-width field"))?;
        self.buf = rest;
        Ok(())
    }
}
