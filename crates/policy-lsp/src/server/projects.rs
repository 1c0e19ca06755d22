//! The documents of policy projects: a document that a `policyc.toml`
//! above it lists is compiled with the project's other files (the open
//! documents' texts, the others read from disk as `policyc check` reads
//! them), and the diagnostics are published file by file.
//!
//! The manifest is read again at every compile, so a file added to or
//! removed from the project is seen at the next edit; a document the
//! manifest no longer lists is compiled on its own from then on. A file's
//! diagnostics are sent when they change (an edited document's always,
//! with its version); a file that leaves the project, or the last
//! document of a project that is closed, has its diagnostics cleared.

use std::path::{Path, PathBuf};

use policy_files::project::{project_of, Project as Manifest};

use super::*;

/// A project with at least one open document.
pub(super) struct Project {
    /// The manifest as read at the last compile.
    spec: Manifest,
    /// Whether a document of the project changed, opened or closed since
    /// the last compile.
    pub(super) stale: bool,
    /// What was last published to each URI of the project (its files and
    /// its manifest), by URI text.
    published: HashMap<String, (Uri, Vec<lsp_types::Diagnostic>)>,
}

/// The name of a project's file in messages: its path below the manifest's
/// directory, with `/` separators.
fn name_in(root: &Path, path: &Path) -> String {
    policy_files::display_name(path.strip_prefix(root).unwrap_or(path))
}

/// The `file:` URI of a path (`None` for a path that is not UTF-8 or not
/// absolute).
fn uri_for(path: &Path) -> Option<Uri> {
    crate::test_files::uri_of(path)
}

impl Server {
    /// The project the document at `uri` belongs to, registered and marked
    /// to be compiled; or the diagnostic of a manifest above it that could
    /// not be read.
    pub(super) fn join_project(
        &mut self,
        uri: &Uri,
    ) -> (Option<PathBuf>, Option<engine::Diagnostic>) {
        let Some(path) = crate::test_files::path_of(uri) else {
            return (None, None);
        };
        match project_of(&path) {
            Ok(Some(spec)) => {
                let manifest = spec.manifest.clone();
                let project = self.projects.entry(manifest.clone()).or_insert(Project {
                    spec,
                    stale: true,
                    published: HashMap::new(),
                });
                project.stale = true;
                (Some(manifest), None)
            }
            Ok(None) => (None, None),
            Err(d) => (None, Some(d)),
        }
    }

    /// The files of the project of `manifest` as last read (for a rename's
    /// search of test files).
    pub(super) fn project_files(&self, manifest: &Path) -> Vec<PathBuf> {
        self.projects
            .get(manifest)
            .map(|p| p.spec.files.clone())
            .unwrap_or_default()
    }

    /// A document of the project of `manifest` was closed: the project is
    /// compiled again with that file read from disk, or, when none of its
    /// documents is open any more, forgotten and its diagnostics cleared.
    pub(super) fn leave_project(&mut self, manifest: &Path) -> Vec<Message> {
        let open = self
            .docs
            .values()
            .any(|d| d.project.as_deref() == Some(manifest));
        match self.projects.get_mut(manifest) {
            Some(p) if open => {
                p.stale = true;
                Vec::new()
            }
            _ => self.dissolve(manifest, None),
        }
    }

    /// Forgets the project of `manifest`: its open documents are compiled
    /// on their own (with `problem`, the manifest's, if any), and the
    /// diagnostics of its other files are cleared.
    fn dissolve(&mut self, manifest: &Path, problem: Option<engine::Diagnostic>) -> Vec<Message> {
        for doc in self.docs.values_mut() {
            if doc.project.as_deref() == Some(manifest) {
                doc.project = None;
                doc.stale = true;
                doc.manifest_problem.clone_from(&problem);
            }
        }
        let Some(project) = self.projects.remove(manifest) else {
            return Vec::new();
        };
        project
            .published
            .into_values()
            .filter(|(uri, d)| !d.is_empty() && !self.docs.contains_key(uri.as_str()))
            .map(|(uri, _)| publish(uri, Vec::new(), None))
            .collect()
    }

    /// Compiles the project of `manifest` and returns the diagnostics that
    /// changed, file by file.
    pub(super) fn settle_project(&mut self, manifest: &Path) -> Vec<Message> {
        let Some(mut project) = self.projects.remove(manifest) else {
            return Vec::new();
        };
        project.stale = false;
        let spec = match Manifest::read(manifest) {
            Ok(spec) => spec,
            Err(e) => {
                // A manifest deleted: its documents are on their own, as
                // files without a project are; one that cannot be read
                // says so in each.
                let problem = manifest.exists().then(|| e.into_diagnostic());
                self.projects.insert(manifest.to_path_buf(), project);
                return self.dissolve(manifest, problem);
            }
        };
        // The file of each open document; one the manifest no longer lists
        // is on its own from now on.
        let mut open: Vec<(String, usize)> = Vec::new();
        for (key, doc) in &mut self.docs {
            if doc.project.as_deref() != Some(manifest) {
                continue;
            }
            match crate::test_files::path_of(&doc.uri).and_then(|p| spec.position(&p)) {
                Some(file) => open.push((key.clone(), file)),
                None => {
                    doc.project = None;
                    doc.stale = true;
                }
            }
        }
        let Some(fallback) = open
            .first()
            .and_then(|(k, _)| self.docs.get(k))
            .map(|d| d.uri.clone())
        else {
            self.projects.insert(manifest.to_path_buf(), project);
            return self.dissolve(manifest, None);
        };
        let doc_of = |file: usize| {
            open.iter()
                .find(|(_, f)| *f == file)
                .and_then(|(k, _)| self.docs.get(k))
        };
        let root = manifest.parent().unwrap_or(Path::new(""));
        let mut sources = Vec::with_capacity(spec.files.len());
        let mut uris = Vec::with_capacity(spec.files.len() + 1);
        let mut unreadable: Vec<(usize, engine::Diagnostic)> = Vec::new();
        for (i, path) in spec.files.iter().enumerate() {
            let text = match doc_of(i) {
                Some(doc) => {
                    uris.push(doc.uri.clone());
                    doc.text.clone()
                }
                None => {
                    uris.push(uri_for(path).unwrap_or_else(|| fallback.clone()));
                    match policy_files::load(path) {
                        Ok(source) => source.text().to_string(),
                        Err(e) => {
                            unreadable.push((i, e.into_diagnostic()));
                            String::new()
                        }
                    }
                }
            };
            sources.push(engine::SourceFile::new(name_in(root, path), text));
        }
        uris.push(uri_for(manifest).unwrap_or_else(|| fallback.clone()));
        let docs_url = self.options.docs_url.as_deref();
        let limit = self.options.max_document_bytes;
        let total: usize = sources.iter().map(|s| s.text().len()).sum();
        let encoding = self.encoding;
        let (units, mut lists) = if total > limit {
            // Not compiled: each open document says why.
            let d = too_large("project", total, limit);
            let mut lists = vec![Vec::new(); uris.len()];
            let mut units = Vec::new();
            for (key, file) in &open {
                let Some(doc) = self.docs.get(key) else {
                    continue;
                };
                let analysis = Analysis::new(&file_name(&doc.uri), "", encoding);
                let unit = Unit::alone(&doc.uri, analysis);
                if let Some(list) = lists.get_mut(*file) {
                    list.push(diagnostics::to_lsp(
                        &unit.analysis,
                        &unit.uris,
                        &d,
                        docs_url,
                    ));
                }
                units.push((key.clone(), unit, 0));
            }
            (units, lists)
        } else {
            let source = engine::SourceFile::project(spec.name.clone(), &sources);
            let Some(analysis) = guarded(|| Analysis::of(&source, encoding)) else {
                // A contained failure: the last analysis stays, and the
                // documents wait for their next edit.
                for (key, _) in &open {
                    if let Some(doc) = self.docs.get_mut(key) {
                        doc.stale = false;
                    }
                }
                self.projects.insert(manifest.to_path_buf(), project);
                return Vec::new();
            };
            let unit = Arc::new(Unit {
                analysis,
                uris: uris.clone(),
            });
            let lists =
                diagnostics::by_file(&unit.analysis, &unit.uris, spec.files.len(), docs_url);
            let units = open
                .iter()
                .map(|(key, file)| (key.clone(), Arc::clone(&unit), *file))
                .collect();
            (units, lists)
        };
        for (file, d) in &unreadable {
            if let Some(list) = lists.get_mut(*file) {
                list.push(self.unplaced(d));
            }
        }
        let mut out = Vec::new();
        let mut published = HashMap::with_capacity(uris.len());
        for (i, (uri, list)) in uris.into_iter().zip(lists).enumerate() {
            let doc = doc_of(i);
            let before = project.published.remove(uri.as_str());
            let changed = match &before {
                Some((_, b)) => *b != list,
                None => !list.is_empty(),
            };
            if changed || doc.is_some_and(|d| d.stale) {
                out.push(publish(uri.clone(), list.clone(), doc.map(|d| d.version)));
            }
            published.insert(uri.as_str().to_string(), (uri, list));
        }
        // Files that left the project: cleared, unless open (then on their own).
        for (uri, list) in project.published.into_values() {
            if !list.is_empty() && !self.docs.contains_key(uri.as_str()) {
                out.push(publish(uri, Vec::new(), None));
            }
        }
        for (key, unit, file) in units {
            if let Some(doc) = self.docs.get_mut(&key) {
                doc.unit = unit;
                doc.file = file;
                doc.stale = false;
            }
        }
        self.projects.insert(
            manifest.to_path_buf(),
            Project {
                spec,
                stale: false,
                published,
            },
        );
        out
    }

    /// Files changed on disk (`workspace/didChangeWatchedFiles`, after
    /// [`init::watch_registration`]): a project with a changed, created or
    /// deleted file is compiled again; a manifest created or changed lets
    /// the open documents below it that are on their own join its
    /// project. An open document's own changes on disk are the editor's
    /// business: its text is the client's.
    pub(super) fn files_changed(&mut self, changes: &[lsp_types::FileEvent]) {
        for change in changes {
            let Some(path) = crate::test_files::path_of(&change.uri) else {
                continue;
            };
            if path
                .file_name()
                .is_some_and(|n| n == policy_files::project::MANIFEST)
            {
                if let Some(project) = self.projects.get_mut(&path) {
                    project.stale = true;
                }
                let Some(dir) = path.parent() else { continue };
                let loose: Vec<Uri> = self
                    .docs
                    .values()
                    .filter(|d| d.project.is_none())
                    .filter(|d| {
                        crate::test_files::path_of(&d.uri).is_some_and(|p| p.starts_with(dir))
                    })
                    .map(|d| d.uri.clone())
                    .collect();
                for uri in loose {
                    let (project, problem) = self.join_project(&uri);
                    if let Some(doc) = self.docs.get_mut(uri.as_str()) {
                        doc.project = project;
                        doc.manifest_problem = problem;
                        doc.stale = true;
                    }
                }
            } else if !self.docs.contains_key(change.uri.as_str()) {
                for project in self.projects.values_mut() {
                    let below = project
                        .spec
                        .manifest
                        .parent()
                        .is_some_and(|r| path.starts_with(r));
                    if below || project.spec.files.contains(&path) {
                        project.stale = true;
                    }
                }
            }
        }
    }

    /// A diagnostic without a position (a file that could not be read), at
    /// the start of its file.
    fn unplaced(&self, d: &engine::Diagnostic) -> lsp_types::Diagnostic {
        let analysis = Analysis::new("", "", self.encoding);
        let none: [Uri; 0] = [];
        diagnostics::to_lsp(&analysis, &none, d, self.options.docs_url.as_deref())
    }
}
