//! Helm charts met while walking a directory. Their templates are not manifests until Helm
//! renders them, so a chart is rendered with the `helm` binary (`helm template`, as Checkov
//! does; it needs no cluster) and what it renders is scanned. Findings point at the chart
//! (`file`) and the template that produced them (`member`, as an archive member), with
//! lines and excerpts of the rendered text, which is what would be applied.
//!
//! Without `helm`, a chart is reported as not scanned (with the command that scans it)
//! instead of failing on `{{ … }}` as YAML. `PALISADE_HELM` names the binary to use, or
//! turns rendering off when set to an empty string.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Longest a chart may take to render: charts render in well under a second; a template
/// that loops for ever must not hang the scan.
const RENDER_TIMEOUT: Duration = Duration::from_secs(60);
/// Most bytes of rendered output read from one chart.
const MAX_OUTPUT: u64 = 64 * 1024 * 1024;
/// Most bytes of Helm's error output kept for the message.
const MAX_STDERR: u64 = 4096;

/// What a directory's `Chart.yaml` says it is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ChartType {
    /// An application chart: `helm template` renders it.
    Application,
    /// A library chart (`type: library`): templates for other charts, nothing to render.
    Library,
}

/// Whether `dir` is the root of a Helm chart, and which kind: it holds a `Chart.yaml` naming
/// the chart under Helm's `apiVersion` `v1` or `v2`.
#[must_use]
pub fn chart_type(dir: &Path) -> Option<ChartType> {
    let text = std::fs::read_to_string(dir.join("Chart.yaml")).ok()?;
    let Some(Ok(doc)) = palisade_yaml::parse_stream(&text).into_iter().next() else {
        return None;
    };
    let field = |k: &str| doc.root.get(k).and_then(|v| v.as_str());
    if !matches!(field("apiVersion"), Some("v1" | "v2")) || field("name").is_none_or(str::is_empty)
    {
        return None;
    }
    Some(if field("type") == Some("library") {
        ChartType::Library
    } else {
        ChartType::Application
    })
}

/// The `helm` binary to render with: `PALISADE_HELM` when set (empty: none), else `helm` on
/// the `PATH`.
#[must_use]
pub fn helm_binary() -> Option<PathBuf> {
    if let Some(v) = std::env::var_os("PALISADE_HELM") {
        return (!v.is_empty()).then(|| PathBuf::from(v));
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join("helm"))
        .find(|p| p.is_file())
}

/// One template's share of a chart's rendered output.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RenderedTemplate {
    /// The template's path inside the chart (`templates/deployment.yaml`,
    /// `charts/redis/templates/master.yaml` for a subchart).
    pub template: String,
    /// The documents it rendered, `---`-separated, each with Helm's `# Source:` line.
    pub text: String,
}

/// Renders `chart` with `helm template` (with `values` files, in order, when given) and
/// splits the output by template.
///
/// # Errors
/// Helm's own message when it fails (a template error, a missing dependency), or a timeout
/// or output-size message.
pub fn render(
    helm: &Path,
    chart: &Path,
    values: &[PathBuf],
) -> Result<Vec<RenderedTemplate>, String> {
    let mut command = Command::new(helm);
    command.arg("template").arg(chart);
    for v in values {
        command.arg("--values").arg(v);
    }
    let mut child = command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot run {}: {e}", helm.display()))?;
    let stdout = child.stdout.take().expect("stdout is piped");
    let stderr = child.stderr.take().expect("stderr is piped");
    // Both pipes are drained on their own threads so that a chatty Helm never blocks on a
    // full pipe while this thread waits for it to exit.
    let out = std::thread::spawn(move || {
        let mut buf = Vec::new();
        let read = stdout.take(MAX_OUTPUT + 1).read_to_end(&mut buf);
        read.map(|_| buf)
    });
    let err = std::thread::spawn(move || {
        let mut buf = Vec::new();
        let _ = stderr.take(MAX_STDERR).read_to_end(&mut buf);
        buf
    });
    let deadline = Instant::now() + RENDER_TIMEOUT;
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(5)),
            Ok(None) => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!(
                    "helm template did not finish within {} s",
                    RENDER_TIMEOUT.as_secs()
                ));
            }
            Err(e) => return Err(format!("waiting for helm: {e}")),
        }
    };
    let stdout = out
        .join()
        .map_err(|_| "reading helm's output failed".to_string())?
        .map_err(|e| format!("reading helm's output: {e}"))?;
    let stderr = err.join().unwrap_or_default();
    if !status.success() {
        let msg = String::from_utf8_lossy(&stderr);
        let msg = msg.trim();
        return Err(if msg.is_empty() {
            format!("helm template failed ({status})")
        } else {
            format!("helm template failed: {msg}")
        });
    }
    if stdout.len() as u64 > MAX_OUTPUT {
        return Err(format!(
            "helm template rendered more than {} MiB",
            MAX_OUTPUT / (1024 * 1024)
        ));
    }
    let text = String::from_utf8(stdout)
        .map_err(|e| format!("helm template rendered text that is not UTF-8: {e}"))?;
    Ok(split_by_source(&text))
}

/// Groups `helm template` output by its `# Source: <chart>/<template>` comments, in the
/// order the templates first appear. Documents before any source line (none, in practice)
/// are dropped.
#[must_use]
pub fn split_by_source(rendered: &str) -> Vec<RenderedTemplate> {
    let mut out: Vec<RenderedTemplate> = Vec::new();
    for doc in documents(rendered) {
        let Some(source) = doc
            .lines()
            .find_map(|l| l.strip_prefix("# Source: "))
            .map(str::trim)
        else {
            continue;
        };
        // The first component is the chart's name; what follows is the path in the chart.
        let template = source
            .split_once('/')
            .map_or(source, |(_, t)| t)
            .to_string();
        match out.iter_mut().find(|t| t.template == template) {
            Some(t) => {
                t.text.push_str("---\n");
                t.text.push_str(doc);
            }
            None => out.push(RenderedTemplate {
                template,
                text: doc.to_string(),
            }),
        }
    }
    out
}

/// The documents of a stream, split at `---` lines, each without its separator and ending
/// with a line break.
fn documents(text: &str) -> impl Iterator<Item = &str> {
    let mut rest = text;
    std::iter::from_fn(move || {
        loop {
            if rest.is_empty() {
                return None;
            }
            let body = rest.strip_prefix("---\n").unwrap_or(rest);
            let end = body.find("\n---\n").map_or(body.len(), |i| i + 1);
            let doc = &body[..end];
            rest = &body[end..];
            if !doc.trim().is_empty() {
                return Some(doc);
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_helm_output_by_template() {
        let rendered = "---\n# Source: web/templates/sa.yaml\napiVersion: v1\nkind: ServiceAccount\n---\n# Source: web/charts/redis/templates/master.yaml\napiVersion: apps/v1\nkind: StatefulSet\n---\n# Source: web/templates/sa.yaml\napiVersion: v1\nkind: ServiceAccount\nmetadata: {name: b}\n";
        let t = split_by_source(rendered);
        assert_eq!(
            t.iter().map(|t| t.template.as_str()).collect::<Vec<_>>(),
            ["templates/sa.yaml", "charts/redis/templates/master.yaml"]
        );
        assert_eq!(
            t[0].text,
            "# Source: web/templates/sa.yaml\napiVersion: v1\nkind: ServiceAccount\n---\n# Source: web/templates/sa.yaml\napiVersion: v1\nkind: ServiceAccount\nmetadata: {name: b}\n"
        );
        assert!(split_by_source("").is_empty());
        assert!(split_by_source("---\n---\n").is_empty());
    }

    #[test]
    fn recognises_chart_roots() {
        let dir = std::env::temp_dir().join(format!("palisade-helm-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("Chart.yaml"), "apiVersion: v2\nname: web\n").unwrap();
        assert_eq!(chart_type(&dir), Some(ChartType::Application));
        std::fs::write(
            dir.join("Chart.yaml"),
            "apiVersion: v2\nname: common\ntype: library\n",
        )
        .unwrap();
        assert_eq!(chart_type(&dir), Some(ChartType::Library));
        std::fs::write(
            dir.join("Chart.yaml"),
            "apiVersion: apps/v1\nkind: Deployment\n",
        )
        .unwrap();
        assert_eq!(chart_type(&dir), None);
        std::fs::remove_file(dir.join("Chart.yaml")).unwrap();
        assert_eq!(chart_type(&dir), None);
        std::fs::remove_dir(&dir).unwrap();
    }
}
