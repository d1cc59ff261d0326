//! Revisions: what a user may write (`HEAD`, a branch, a tag, a full ref
//! name, a full or short commit, any of them followed by Git's ancestry
//! suffixes `~N` and `^N`), the refspecs that fetch exactly that, and
//! resolving it to a commit in the local mirror.

use gix::ObjectId;

/// Errors from resolving a revision in the local mirror.
#[derive(Debug, thiserror::Error)]
pub enum RevisionError {
    /// The revision is empty or contains characters no ref may contain.
    #[error("revision `{0}` is not a valid branch, tag, ref or commit")]
    Invalid(String),
    /// A short commit matches more than one object.
    #[error("short commit `{0}` is ambiguous")]
    Ambiguous(String),
    /// An ancestry suffix walks past the first commit or a merge's parents.
    #[error("revision `{revision}`: commit {commit} has no parent number {nth}")]
    NoParent {
        /// The revision as written.
        revision: String,
        /// The commit that lacks the parent.
        commit: String,
        /// The parent asked for (1 is the first).
        nth: usize,
    },
    /// The revision names a tree or blob, not a commit.
    #[error("revision `{0}` does not point to a commit")]
    NotACommit(String),
    /// Reading the mirror failed.
    #[error("could not read `{what}` from the local mirror")]
    Read {
        /// What was being read.
        what: String,
        /// The library's message.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
}

/// A revision, classified.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Revision {
    /// The remote's `HEAD` (its default branch).
    Head,
    /// A full ref name such as `refs/heads/main` or `refs/pull/1/head`.
    FullRef(String),
    /// A short name: a tag or branch (tags win, as in `git rev-parse`).
    Name(String),
    /// A full commit id.
    Commit(ObjectId),
}

/// Where fetched refs are kept in the mirror.
pub(crate) const HEAD_REF: &str = "refs/sextant/HEAD";

impl Revision {
    /// Classify `input`; an empty revision means `HEAD`.
    pub fn parse(input: &str) -> Result<Self, RevisionError> {
        let input = input.trim();
        if input.is_empty() || input == "HEAD" {
            return Ok(Revision::Head);
        }
        if input.len() == 40 && input.bytes().all(|b| b.is_ascii_hexdigit()) {
            let id = ObjectId::from_hex(input.to_ascii_lowercase().as_bytes())
                .map_err(|_| RevisionError::Invalid(input.to_owned()))?;
            return Ok(Revision::Commit(id));
        }
        if !valid_ref_name(input) {
            return Err(RevisionError::Invalid(input.to_owned()));
        }
        if input.starts_with("refs/") {
            Ok(Revision::FullRef(input.to_owned()))
        } else {
            Ok(Revision::Name(input.to_owned()))
        }
    }

    /// The refspecs that fetch this revision's ref into the mirror, and the
    /// local refs to look at afterwards, in order of preference.
    pub(crate) fn refspecs(&self) -> Vec<(String, String)> {
        match self {
            Revision::Head => vec![("HEAD".into(), HEAD_REF.into())],
            Revision::FullRef(name) => vec![(name.clone(), name.clone())],
            Revision::Name(name) => {
                let mut specs = vec![
                    (format!("refs/tags/{name}"), format!("refs/tags/{name}")),
                    (format!("refs/heads/{name}"), format!("refs/heads/{name}")),
                ];
                // `origin/main` is how a Git user names the remote's branch
                // `main` in their clone; the remote itself calls it `main`.
                if let Some(branch) = name.strip_prefix("origin/") {
                    specs.push((
                        format!("refs/heads/{branch}"),
                        format!("refs/heads/{branch}"),
                    ));
                }
                specs
            }
            Revision::Commit(_) => Vec::new(),
        }
    }

    /// A hex prefix (4 to 39 digits) that may be a short commit.
    pub(crate) fn short_commit(&self) -> Option<&str> {
        match self {
            Revision::Name(name)
                if (4..40).contains(&name.len()) && name.bytes().all(|b| b.is_ascii_hexdigit()) =>
            {
                Some(name)
            }
            _ => None,
        }
    }
}

/// The most parent steps one revision may take (`HEAD~100000` is a typo or
/// an attack on the fetch, not a deployment).
const MAX_ANCESTRY: usize = 10_000;

/// Split Git's ancestry suffixes off a revision: `main~2^2` is `main`, then
/// two first-parent steps, then the second parent. Each step is the parent's
/// number (1 for the first parent); `^0` and `^{}`/`^{commit}` (peel, which
/// every resolution does anyway) add no step. A revision without a suffix
/// has no steps.
pub fn split_ancestry(input: &str) -> Result<(&str, Vec<usize>), RevisionError> {
    let input = input.trim();
    let invalid = || RevisionError::Invalid(input.to_owned());
    let Some(start) = input.find(['~', '^']) else {
        return Ok((input, Vec::new()));
    };
    let (base, mut rest) = input.split_at(start);
    if base.is_empty() {
        return Err(invalid());
    }
    let mut steps = Vec::new();
    while let Some(op) = rest.chars().next() {
        rest = &rest[1..];
        if op == '^'
            && let Some(after) = rest
                .strip_prefix("{}")
                .or_else(|| rest.strip_prefix("{commit}"))
        {
            rest = after;
            continue;
        }
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        let number = if digits == 0 {
            1
        } else {
            rest[..digits].parse::<usize>().map_err(|_| invalid())?
        };
        rest = &rest[digits..];
        match op {
            '~' => steps.extend(std::iter::repeat_n(1, number.min(MAX_ANCESTRY + 1))),
            '^' if number == 0 => {}
            '^' => steps.push(number),
            _ => return Err(invalid()),
        }
        if steps.len() > MAX_ANCESTRY {
            return Err(invalid());
        }
    }
    Ok((base, steps))
}

/// Follow `steps` (parent numbers) from `id`. `Ok(None)` when a commit on
/// the way is not in the mirror (a shallow fetch stopped there), an error
/// when a commit has no such parent.
pub(crate) fn walk_ancestry(
    repo: &gix::Repository,
    mut id: ObjectId,
    steps: &[usize],
    revision: &str,
) -> Result<Option<ObjectId>, RevisionError> {
    for &nth in steps {
        let Ok(object) = repo.find_object(id) else {
            return Ok(None);
        };
        let commit = object
            .try_into_commit()
            .map_err(|_| RevisionError::NotACommit(revision.to_owned()))?;
        let Some(parent) = commit.parent_ids().nth(nth - 1) else {
            return Err(RevisionError::NoParent {
                revision: revision.to_owned(),
                commit: id.to_string(),
                nth,
            });
        };
        id = parent.detach();
    }
    Ok(has_commit(repo, id).then_some(id))
}

/// Git's ref-name rules, enough to refuse anything that could be read as an
/// option, a range or a path trick.
fn valid_ref_name(name: &str) -> bool {
    !name.starts_with('-')
        && !name.starts_with('/')
        && !name.ends_with('/')
        && !name.ends_with('.')
        && !name.ends_with(".lock")
        && !name.contains("..")
        && !name.contains("//")
        && !name.contains("@{")
        && !name.split('/').any(|part| part.starts_with('.'))
        && name.chars().all(|c| {
            !c.is_control() && !matches!(c, ' ' | '~' | '^' | ':' | '?' | '*' | '[' | '\\')
        })
}

/// Peel `id` (a commit or an annotated tag) to a commit.
pub(crate) fn peel_to_commit(
    repo: &gix::Repository,
    id: ObjectId,
    revision: &str,
) -> Result<ObjectId, RevisionError> {
    let object = repo.find_object(id).map_err(|e| read_error(revision, e))?;
    let commit = object
        .peel_to_kind(gix::object::Kind::Commit)
        .map_err(|_| RevisionError::NotACommit(revision.to_owned()))?;
    Ok(commit.id)
}

/// The commit a local ref points to, if the ref exists.
pub(crate) fn local_ref(
    repo: &gix::Repository,
    name: &str,
    revision: &str,
) -> Result<Option<ObjectId>, RevisionError> {
    let Some(mut reference) = repo
        .try_find_reference(name)
        .map_err(|e| read_error(name, e))?
    else {
        return Ok(None);
    };
    let id = reference
        .peel_to_id()
        .map_err(|e| read_error(name, e))?
        .detach();
    peel_to_commit(repo, id, revision).map(Some)
}

/// Whether the mirror has this commit.
pub(crate) fn has_commit(repo: &gix::Repository, id: ObjectId) -> bool {
    repo.find_object(id)
        .is_ok_and(|o| o.kind == gix::object::Kind::Commit)
}

/// The commit a hex prefix names, if exactly one object matches.
pub(crate) fn lookup_short(
    repo: &gix::Repository,
    prefix: &str,
) -> Result<Option<ObjectId>, RevisionError> {
    let prefix_id = gix::hash::Prefix::from_hex(prefix)
        .map_err(|_| RevisionError::Invalid(prefix.to_owned()))?;
    match repo
        .objects
        .lookup_prefix(prefix_id, None)
        .map_err(|e| read_error(prefix, e))?
    {
        None => Ok(None),
        Some(Err(())) => Err(RevisionError::Ambiguous(prefix.to_owned())),
        Some(Ok(id)) => peel_to_commit(repo, id, prefix).map(Some),
    }
}

fn read_error(what: &str, e: impl std::error::Error + Send + Sync + 'static) -> RevisionError {
    RevisionError::Read {
        what: what.to_owned(),
        source: Box::new(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn revisions_are_classified_like_git_does() {
        assert_eq!(Revision::parse("").unwrap(), Revision::Head);
        assert_eq!(Revision::parse("HEAD").unwrap(), Revision::Head);
        assert!(matches!(
            Revision::parse("0123456789abcdef0123456789abcdef01234567").unwrap(),
            Revision::Commit(_)
        ));
        assert_eq!(
            Revision::parse("refs/heads/main").unwrap(),
            Revision::FullRef("refs/heads/main".into())
        );
        let short = Revision::parse("abc1234").unwrap();
        assert_eq!(short.short_commit(), Some("abc1234"));
        assert_eq!(Revision::parse("main").unwrap().short_commit(), None);
    }

    #[test]
    fn revisions_that_could_be_options_or_path_tricks_are_refused() {
        for bad in [
            "--upload-pack=x",
            "a..b",
            "main:x",
            "a/../b",
            "x@{1}",
            "a b",
        ] {
            assert!(Revision::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn ancestry_suffixes_become_parent_steps() {
        assert_eq!(split_ancestry("main").unwrap(), ("main", vec![]));
        assert_eq!(split_ancestry("HEAD~1").unwrap(), ("HEAD", vec![1]));
        assert_eq!(split_ancestry("HEAD~").unwrap(), ("HEAD", vec![1]));
        assert_eq!(split_ancestry("main~2^2").unwrap(), ("main", vec![1, 1, 2]));
        assert_eq!(split_ancestry("v1^{}").unwrap(), ("v1", vec![]));
        assert_eq!(split_ancestry("v1^0^").unwrap(), ("v1", vec![1]));
        for bad in ["~1", "HEAD~x", "HEAD^{tree}", "HEAD~99999999"] {
            assert!(split_ancestry(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn origin_slash_branch_also_looks_for_the_branch() {
        let specs = Revision::parse("origin/main").unwrap().refspecs();
        assert!(specs.iter().any(|(_, local)| local == "refs/heads/main"));
    }

    #[test]
    fn a_name_is_looked_up_as_a_tag_before_a_branch() {
        let specs = Revision::parse("v1").unwrap().refspecs();
        assert_eq!(specs[0].1, "refs/tags/v1");
        assert_eq!(specs[1].1, "refs/heads/v1");
    }
}
