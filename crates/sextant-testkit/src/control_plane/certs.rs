//! The control plane's key material, made fresh for each start with
//! rcgen: a CA, kube-apiserver's serving certificate (loopback, localhost
//! and the in-cluster `kubernetes` names), the service-account signing key
//! and the bearer tokens of the admin and of kube-controller-manager.

use std::path::{Path, PathBuf};

use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose, SanType,
};

/// Files written by [`write`], all inside one folder.
pub struct Material {
    pub ca_pem: String,
    pub ca_file: PathBuf,
    pub serving_cert: PathBuf,
    pub serving_key: PathBuf,
    pub sa_key: PathBuf,
    pub sa_pub: PathBuf,
    pub token_file: PathBuf,
    pub admin_token: String,
    pub kcm_token: String,
}

fn random_token() -> String {
    // Hex keeps it within the token file's CSV syntax.
    (0..24)
        .map(|_| format!("{:02x}", rand::random::<u8>()))
        .collect()
}

/// A serving certificate and its key (PEM), signed by a new CA (PEM), for
/// the DNS `names` and `ips`, named `common_name`.
pub struct Serving {
    /// The CA that signed it.
    pub ca_pem: String,
    /// The certificate.
    pub cert_pem: String,
    /// Its private key.
    pub key_pem: String,
}

/// A new CA and a serving certificate it signs.
pub fn serving(common_name: &str, names: &[&str], ips: &[&str]) -> Serving {
    let ca_key = KeyPair::generate().expect("generate the CA key");
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).expect("CA parameters");
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(DnType::CommonName, "sextant-test-ca");
    ca_params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    let ca_cert = ca_params.self_signed(&ca_key).expect("self-sign the CA");
    let issuer = Issuer::new(ca_params, ca_key);

    let key = KeyPair::generate().expect("generate the serving key");
    let mut params =
        CertificateParams::new(names.iter().map(|n| n.to_string()).collect::<Vec<_>>())
            .expect("serving parameters");
    for ip in ips {
        params
            .subject_alt_names
            .push(SanType::IpAddress(ip.parse().expect("an IP")));
    }
    params
        .distinguished_name
        .push(DnType::CommonName, common_name);
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    params.key_usages = vec![
        KeyUsagePurpose::DigitalSignature,
        KeyUsagePurpose::KeyEncipherment,
    ];
    let cert = params
        .signed_by(&key, &issuer)
        .expect("sign the serving certificate");
    Serving {
        ca_pem: ca_cert.pem(),
        cert_pem: cert.pem(),
        key_pem: key.serialize_pem(),
    }
}

/// Generate everything into `dir`.
pub fn write(dir: &Path) -> Material {
    std::fs::create_dir_all(dir).expect("create the certificate folder");
    let serving = serving(
        "kube-apiserver",
        &[
            "localhost",
            "kubernetes",
            "kubernetes.default",
            "kubernetes.default.svc",
            "kubernetes.default.svc.cluster.local",
        ],
        &["127.0.0.1", "10.96.0.1"],
    );
    let sa = KeyPair::generate().expect("generate the service-account key");
    let admin_token = random_token();
    let kcm_token = random_token();
    let m = Material {
        ca_pem: serving.ca_pem.clone(),
        ca_file: dir.join("ca.crt"),
        serving_cert: dir.join("apiserver.crt"),
        serving_key: dir.join("apiserver.key"),
        sa_key: dir.join("sa.key"),
        sa_pub: dir.join("sa.pub"),
        token_file: dir.join("tokens.csv"),
        admin_token,
        kcm_token,
    };
    let files = [
        (&m.ca_file, m.ca_pem.clone()),
        (&m.serving_cert, format!("{}{}", serving.cert_pem, m.ca_pem)),
        (&m.serving_key, serving.key_pem.clone()),
        (&m.sa_key, sa.serialize_pem()),
        (&m.sa_pub, sa.public_key_pem()),
        (
            &m.token_file,
            format!(
                "{},admin,admin-uid,\"system:masters\"\n{},system:kube-controller-manager,kcm-uid,\"system:masters\"\n",
                m.admin_token, m.kcm_token
            ),
        ),
    ];
    for (path, text) in files {
        std::fs::write(path, text).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
    }
    m
}

/// A kubeconfig for `url` trusting the CA, authenticating with `token`.
pub fn kubeconfig(url: &str, ca_pem: &str, user: &str, token: &str) -> String {
    format!(
        "apiVersion: v1
kind: Config
clusters:
- name: sextant-real
  cluster:
    server: {url}
    certificate-authority-data: {ca}
users:
- name: {user}
  user:
    token: {token}
contexts:
- name: sextant-real
  context:
    cluster: sextant-real
    user: {user}
    namespace: default
current-context: sextant-real
",
        ca = crate::http_git::base64(ca_pem.as_bytes())
    )
}
