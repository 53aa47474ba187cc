//! X.509 with x509-parser: the facts the certificate calls need, and signature checks.

use x509_parser::pem::parse_x509_pem;

/// What the service keeps of a certificate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertFacts {
    /// Serial number, lowercase hex.
    pub sn: String,
    /// The subject's common name.
    pub common_name: String,
    /// Validity start, ms.
    pub not_before: i64,
    /// Validity end, ms.
    pub not_after: i64,
    /// Whether basic constraints mark it a CA.
    pub is_ca: bool,
}

/// Parses one PEM certificate.
pub fn parse(pem: &str) -> Result<CertFacts, String> {
    let (_, pem) = parse_x509_pem(pem.as_bytes()).map_err(|e| format!("not PEM: {e}"))?;
    let cert = pem.parse_x509().map_err(|e| format!("not an X.509 certificate: {e}"))?;
    let common_name = cert
        .subject()
        .iter_common_name()
        .next()
        .and_then(|cn| cn.as_str().ok())
        .unwrap_or_default()
        .to_owned();
    let is_ca = cert.basic_constraints().ok().flatten().is_some_and(|bc| bc.value.ca);
    Ok(CertFacts {
        sn: cert.raw_serial_as_string().replace(':', ""),
        common_name,
        not_before: cert.validity().not_before.timestamp().saturating_mul(1000),
        not_after: cert.validity().not_after.timestamp().saturating_mul(1000),
        is_ca,
    })
}

/// Whether `cert_pem`'s signature verifies with the public key of `issuer_pem`.
pub fn signed_by(cert_pem: &str, issuer_pem: &str) -> bool {
    let Ok((_, cert)) = parse_x509_pem(cert_pem.as_bytes()) else { return false };
    let Ok((_, issuer)) = parse_x509_pem(issuer_pem.as_bytes()) else { return false };
    let (Ok(cert), Ok(issuer)) = (cert.parse_x509(), issuer.parse_x509()) else { return false };
    cert.issuer() == issuer.subject() && cert.verify_signature(Some(issuer.public_key())).is_ok()
}
