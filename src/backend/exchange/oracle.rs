//! Which cmdlet parameters exist in which Exchange version, from the cmdlet reference
//! (`cmdlets.json`, trimmed from the oracle in `tests/data/exchange-cmdlets.json`).

use crate::ir::ExchangeVersion;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::sync::LazyLock;

/// The embedded reference data.
#[derive(Debug, Deserialize)]
struct Data {
    cmdlets: BTreeMap<String, Cmdlet>,
}

/// One cmdlet.
#[derive(Debug, Deserialize)]
struct Cmdlet {
    applicable: Vec<String>,
    parameters: BTreeMap<String, Parameter>,
}

/// One parameter of a cmdlet.
#[derive(Debug, Deserialize)]
struct Parameter {
    applicable: Vec<String>,
    #[serde(default)]
    values: Vec<String>,
    #[serde(default)]
    switch: bool,
}

static DATA: LazyLock<Result<Data, String>> =
    LazyLock::new(|| serde_json::from_str(include_str!("cmdlets.json")).map_err(|e| e.to_string()));

/// What the reference says about one parameter in one version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Support {
    /// The parameter exists in this version; `values` is its value set (empty: any value).
    Yes {
        /// Accepted values, when the reference lists them.
        values: Vec<String>,
        /// A switch parameter (takes no value).
        switch: bool,
    },
    /// The cmdlet or parameter exists, but not in this version.
    NotInVersion,
}

/// Looks a parameter up. `Err` means the backend asked about a cmdlet or parameter the
/// reference does not have at all: a bug in the backend.
pub(crate) fn parameter(cmdlet: &str, name: &str, version: ExchangeVersion) -> Result<Support, String> {
    let data = DATA.as_ref().map_err(|e| format!("cmdlets.json does not parse: {e}"))?;
    let c = data
        .cmdlets
        .get(cmdlet)
        .ok_or_else(|| format!("cmdlet `{cmdlet}` is not in the embedded cmdlet reference"))?;
    let p = c
        .parameters
        .get(name)
        .ok_or_else(|| format!("`{cmdlet} -{name}` is not in the embedded cmdlet reference"))?;
    let product = version.product();
    let here = |list: &[String]| list.iter().any(|a| a == product);
    if here(&c.applicable) && here(&p.applicable) {
        Ok(Support::Yes {
            values: p.values.clone(),
            switch: p.switch,
        })
    } else {
        Ok(Support::NotInVersion)
    }
}

/// Whether a cmdlet exists in a version.
pub(crate) fn has_cmdlet(cmdlet: &str, version: ExchangeVersion) -> Result<bool, String> {
    let data = DATA.as_ref().map_err(|e| format!("cmdlets.json does not parse: {e}"))?;
    let c = data
        .cmdlets
        .get(cmdlet)
        .ok_or_else(|| format!("cmdlet `{cmdlet}` is not in the embedded cmdlet reference"))?;
    Ok(c.applicable.iter().any(|a| a == version.product()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_gated_parameters() {
        assert_eq!(
            parameter("New-SendConnector", "TlsCertificateName", ExchangeVersion::E2010),
            Ok(Support::NotInVersion)
        );
        assert!(matches!(
            parameter("New-SendConnector", "TlsCertificateName", ExchangeVersion::E2016),
            Ok(Support::Yes { .. })
        ));
        assert!(parameter("New-SendConnector", "Cost", ExchangeVersion::E2010).is_err());
        assert_eq!(has_cmdlet("Set-SmimeConfig", ExchangeVersion::E2010), Ok(false));
        assert_eq!(has_cmdlet("Set-SmimeConfig", ExchangeVersion::Online), Ok(true));
    }
}
