//! Certificates for TLS tests, made with the `openssl` command line: a CA, a server
//! certificate for `localhost` and `127.0.0.1`, and a client certificate, as PEM files.

use std::path::{Path, PathBuf};
use std::process::Command;

/// PEM files in a directory of their own (keys unencrypted, PKCS#8).
#[derive(Debug, Clone)]
pub struct Certs {
    pub dir: PathBuf,
    pub ca: PathBuf,
    pub server_cert: PathBuf,
    pub server_key: PathBuf,
    pub client_cert: PathBuf,
    pub client_key: PathBuf,
}

fn openssl(dir: &Path, args: &[&str]) -> Result<(), String> {
    let out = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .map_err(|e| format!("cannot run openssl: {e} (Debian's openssl package)"))?;
    if !out.status.success() {
        return Err(format!("openssl {}: {}", args.join(" "), String::from_utf8_lossy(&out.stderr)));
    }
    Ok(())
}

impl Certs {
    /// A fresh CA and the certificates it signs, valid for two days.
    pub fn generate() -> Result<Certs, String> {
        let dir = crate::process::fresh_dir("certs");
        let key = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
        let mut ca = vec!["req", "-x509", "-days", "2", "-subj", "/CN=expressway-test-ca", "-keyout", "ca.key"];
        ca.extend(key);
        ca.extend([
            "-out",
            "ca.pem",
            "-addext",
            "basicConstraints=critical,CA:TRUE",
            "-addext",
            "keyUsage=keyCertSign",
        ]);
        openssl(&dir, &ca)?;
        for (name, cn, ext) in [
            ("server", "localhost", "subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n"),
            ("client", "expressway-test-client", "extendedKeyUsage=clientAuth\n"),
        ] {
            let (k, csr, pem, extfile) =
                (format!("{name}.key"), format!("{name}.csr"), format!("{name}.pem"), format!("{name}.ext"));
            std::fs::write(dir.join(&extfile), ext).map_err(|e| e.to_string())?;
            let subj = format!("/CN={cn}");
            let mut req = vec!["req", "-subj", &subj, "-keyout", &k, "-out", &csr];
            req.extend(key);
            openssl(&dir, &req)?;
            openssl(
                &dir,
                &[
                    "x509",
                    "-req",
                    "-in",
                    &csr,
                    "-CA",
                    "ca.pem",
                    "-CAkey",
                    "ca.key",
                    "-CAcreateserial",
                    "-days",
                    "2",
                    "-out",
                    &pem,
                    "-extfile",
                    &extfile,
                ],
            )?;
        }
        Ok(Certs {
            ca: dir.join("ca.pem"),
            server_cert: dir.join("server.pem"),
            server_key: dir.join("server.key"),
            client_cert: dir.join("client.pem"),
            client_key: dir.join("client.key"),
            dir,
        })
    }
}
