//! PEM framing: finding `-----BEGIN …-----` blocks in a bundle and telling DER from PEM.
//!
//! Security-sensitive: every certificate, CRL and demo key enters through here. Only the
//! framing is done in this file (which lines belong to which block); base64 and label
//! checks are `pem-rfc7468` (re-exported by `der`), the content is decoded by `der`.

use crate::error::PkiError;

/// One decoded PEM block: its label (`CERTIFICATE`, `X509 CRL`, `PRIVATE KEY`) and bytes.
pub(crate) struct PemBlock {
    pub label: String,
    pub der: Vec<u8>,
}

/// True when the input looks like PEM text rather than binary DER.
pub(crate) fn looks_like_pem(input: &[u8]) -> bool {
    input.trim_ascii_start().starts_with(b"-----BEGIN ")
}

/// All PEM blocks in `input`, in order. Text between blocks (bundle comments such as
/// `subject=…` lines that `openssl` writes) is ignored; a broken block is an error, so a
/// damaged bundle is refused as a whole rather than silently loading fewer anchors.
pub(crate) fn blocks(input: &[u8]) -> Result<Vec<PemBlock>, PkiError> {
    let mut out = Vec::new();
    let mut current: Option<Vec<&[u8]>> = None;
    for raw_line in input.split(|b| *b == b'\n') {
        let line = raw_line.trim_ascii();
        match current.as_mut() {
            None => {
                if line.starts_with(b"-----BEGIN ") {
                    current = Some(vec![line]);
                }
            }
            Some(lines) => {
                lines.push(line);
                if line.starts_with(b"-----END ") {
                    let text = lines.join(&b'\n');
                    let (label, der) = der::pem::decode_vec(&text)
                        .map_err(|_| PkiError::Malformed("PEM block cannot be decoded"))?;
                    out.push(PemBlock {
                        label: label.to_owned(),
                        der,
                    });
                    current = None;
                }
            }
        }
    }
    if current.is_some() {
        return Err(PkiError::Malformed("PEM block without END line"));
    }
    Ok(out)
}

/// DER bytes of exactly one object: the input itself if it is DER, or the single PEM block
/// with one of `labels` if it is PEM.
pub(crate) fn single_der(input: &[u8], labels: &[&str]) -> Result<Vec<u8>, PkiError> {
    if input.is_empty() {
        return Err(PkiError::Malformed("empty input"));
    }
    if !looks_like_pem(input) {
        return Ok(input.to_vec());
    }
    let mut found = blocks(input)?
        .into_iter()
        .filter(|b| labels.contains(&b.label.as_str()));
    match (found.next(), found.next()) {
        (Some(block), None) => Ok(block.der),
        (None, _) => Err(PkiError::Malformed("no PEM block with the expected label")),
        (Some(_), Some(_)) => Err(PkiError::Malformed("more than one PEM block")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn junk_and_unterminated_blocks_are_errors_not_panics() {
        assert!(single_der(b"", &["CERTIFICATE"]).is_err());
        assert!(blocks(b"-----BEGIN CERTIFICATE-----\nAAAA\n").is_err());
        assert!(blocks(b"-----BEGIN CERTIFICATE-----\n!!!!\n-----END CERTIFICATE-----\n").is_err());
        assert!(blocks(b"hello\nworld").is_ok_and(|b| b.is_empty()));
        assert!(single_der(b"  -----BEGIN X-----\n-----END X-----", &["CERTIFICATE"]).is_err());
    }
}
