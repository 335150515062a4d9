//! How a database's location is written where people read it (start-up errors, logs,
//! `querywarden migrate`): a file path as it is, a connection URL without its password.
//!
//! Security-sensitive: a database password must never reach a terminal, a log or an error
//! message, whichever backend the URL names.

/// What stands in for a password that was removed.
const HIDDEN: &str = "***";

/// `location` with every password removed: the password of the URL's user information
/// (`postgres://user:secret@host/db` → `postgres://user:***@host/db`) and the value of a
/// `password`, `passwd` or `sslpassword` query parameter. Anything that is not a URL (a file
/// path) comes back unchanged.
pub fn redact_location(location: &str) -> String {
    let Some((scheme, rest)) = location.split_once("://") else {
        return location.to_string();
    };
    // The authority ends at the first '/', '?' or '#'; a password may hold '@', so the
    // user information ends at the authority's last '@'.
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    let authority = match authority.rsplit_once('@') {
        Some((user_info, host)) => match user_info.split_once(':') {
            Some((user, _password)) => format!("{user}:{HIDDEN}@{host}"),
            None => authority.to_string(),
        },
        None => authority.to_string(),
    };
    let tail = match tail.split_once('?') {
        Some((path, query)) => {
            let (query, fragment) = match query.split_once('#') {
                Some((q, f)) => (q, Some(f)),
                None => (query, None),
            };
            let query = query
                .split('&')
                .map(|pair| match pair.split_once('=') {
                    Some((key, _)) if is_password_key(key) => format!("{key}={HIDDEN}"),
                    _ => pair.to_string(),
                })
                .collect::<Vec<_>>()
                .join("&");
            match fragment {
                Some(f) => format!("{path}?{query}#{f}"),
                None => format!("{path}?{query}"),
            }
        }
        None => tail.to_string(),
    };
    format!("{scheme}://{authority}{tail}")
}

fn is_password_key(key: &str) -> bool {
    ["password", "passwd", "sslpassword"]
        .iter()
        .any(|k| key.eq_ignore_ascii_case(k))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_password_of_a_postgres_url_is_hidden_and_the_rest_is_kept() {
        let shown = redact_location("postgres://u:secret@h:5432/db");
        assert_eq!(shown, "postgres://u:***@h:5432/db");
        assert!(!shown.contains("secret"));
    }

    #[test]
    fn a_password_holding_an_at_sign_or_colon_is_hidden_whole() {
        assert_eq!(
            redact_location("postgresql://app:p@ss:w0rd@db.internal/querywarden?sslmode=require"),
            "postgresql://app:***@db.internal/querywarden?sslmode=require"
        );
    }

    #[test]
    fn password_query_parameters_are_hidden_whatever_their_case() {
        let shown = redact_location(
            "postgres://h/db?user=u&Password=secret&sslpassword=key-pass&application_name=qw#x",
        );
        assert_eq!(
            shown,
            "postgres://h/db?user=u&Password=***&sslpassword=***&application_name=qw#x"
        );
        assert!(!shown.contains("secret") && !shown.contains("key-pass"));
    }

    #[test]
    fn locations_without_a_password_are_unchanged() {
        for location in [
            "postgres://u@h:5432/db",
            "postgres://h/db",
            "/var/lib/querywarden/querywarden.sqlite",
            "sqlite:///var/lib/querywarden/querywarden.sqlite",
            "",
        ] {
            assert_eq!(redact_location(location), location);
        }
    }
}
