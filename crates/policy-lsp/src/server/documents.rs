//! The document notifications: open, change (incremental sync) and close;
//! and files changed on disk (`workspace/didChangeWatchedFiles`).

use super::*;

impl Server {
    pub(super) fn notify(&mut self, n: Notification) -> Vec<Message> {
        match n.method.as_str() {
            DidOpenTextDocument::METHOD => {
                let Ok(p) =
                    serde_json::from_value::<lsp_types::DidOpenTextDocumentParams>(n.params)
                else {
                    return Vec::new();
                };
                let doc = p.text_document;
                let analysis = Analysis::new(&file_name(&doc.uri), "", self.encoding);
                let (project, manifest_problem) = self.join_project(&doc.uri);
                self.docs.insert(
                    doc.uri.as_str().to_string(),
                    Document {
                        unit: Unit::alone(&doc.uri, analysis),
                        file: 0,
                        uri: doc.uri,
                        version: doc.version,
                        text: doc.text,
                        stale: true,
                        project,
                        manifest_problem,
                    },
                );
                Vec::new()
            }
            DidChangeTextDocument::METHOD => {
                let Ok(p) =
                    serde_json::from_value::<lsp_types::DidChangeTextDocumentParams>(n.params)
                else {
                    return Vec::new();
                };
                let encoding = self.encoding;
                let Some(doc) = self.docs.get_mut(p.text_document.uri.as_str()) else {
                    return Vec::new();
                };
                apply_changes_in_place(&mut doc.text, &p.content_changes, encoding);
                doc.version = p.text_document.version;
                doc.stale = true;
                if let Some(project) = doc.project.as_ref().and_then(|m| self.projects.get_mut(m)) {
                    project.stale = true;
                }
                Vec::new()
            }
            DidCloseTextDocument::METHOD => {
                let Ok(p) =
                    serde_json::from_value::<lsp_types::DidCloseTextDocumentParams>(n.params)
                else {
                    return Vec::new();
                };
                let closed = self.docs.remove(p.text_document.uri.as_str());
                match closed.and_then(|d| d.project) {
                    Some(manifest) => self.leave_project(&manifest),
                    None => vec![publish(p.text_document.uri, Vec::new(), None)],
                }
            }
            DidChangeWatchedFiles::METHOD => {
                let Ok(p) =
                    serde_json::from_value::<lsp_types::DidChangeWatchedFilesParams>(n.params)
                else {
                    return Vec::new();
                };
                self.files_changed(&p.changes);
                Vec::new()
            }
            _ => Vec::new(),
        }
    }
}

/// Applies content changes in order: a change with a range replaces that
/// range (positions in `encoding`, clamped), one without replaces the text.
pub fn apply_changes(
    text: &str,
    changes: &[TextDocumentContentChangeEvent],
    encoding: Encoding,
) -> String {
    let mut text = text.to_string();
    apply_changes_in_place(&mut text, changes, encoding);
    text
}

fn apply_changes_in_place(
    text: &mut String,
    changes: &[TextDocumentContentChangeEvent],
    encoding: Encoding,
) {
    for c in changes {
        match c.range {
            Some(r) => {
                let lines = LineIndex::new(text, encoding);
                let start = lines.offset(text, r.start);
                let end = lines.offset(text, r.end).max(start);
                text.replace_range(start..end, &c.text);
            }
            None => text.clone_from(&c.text),
        }
    }
}
