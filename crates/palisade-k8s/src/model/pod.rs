use palisade_yaml::{Entry, Node, Pos};

use super::Decoder;
use super::decode::{Index, Key, Pointer};

/// A value and where it was written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Sp<T> {
    pub value: T,
    pub pos: Pos,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ContainerKind {
    Init,
    Regular,
    Ephemeral,
}

impl ContainerKind {
    #[must_use]
    pub fn field(self) -> &'static str {
        match self {
            ContainerKind::Init => "initContainers",
            ContainerKind::Regular => "containers",
            ContainerKind::Ephemeral => "ephemeralContainers",
        }
    }
}

/// `seccompProfile` and `appArmorProfile` share a shape.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProfileRef<'a> {
    pub pos: Pos,
    pub type_: Option<Sp<&'a str>>,
    pub localhost_profile: Option<Sp<&'a str>>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SeLinuxOptions<'a> {
    pub pos: Pos,
    pub type_: Option<Sp<&'a str>>,
    pub user: Option<Sp<&'a str>>,
    pub role: Option<Sp<&'a str>>,
    pub level: Option<Sp<&'a str>>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Capabilities<'a> {
    pub pos: Pos,
    pub add: Vec<Sp<&'a str>>,
    pub drop: Vec<Sp<&'a str>>,
    /// Where the `drop` key is written, when it is.
    pub drop_pos: Option<Pos>,
}

/// The security context fields common to pods and containers, plus the container-only ones.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SecurityContext<'a> {
    pub pos: Pos,
    pub privileged: Option<Sp<bool>>,
    pub allow_privilege_escalation: Option<Sp<bool>>,
    pub read_only_root_filesystem: Option<Sp<bool>>,
    pub capabilities: Option<Capabilities<'a>>,
    pub run_as_non_root: Option<Sp<bool>>,
    pub run_as_user: Option<Sp<i64>>,
    pub run_as_group: Option<Sp<i64>>,
    pub se_linux_options: Option<SeLinuxOptions<'a>>,
    pub seccomp_profile: Option<ProfileRef<'a>>,
    pub app_armor_profile: Option<ProfileRef<'a>>,
    pub proc_mount: Option<Sp<&'a str>>,
    pub windows_host_process: Option<Sp<bool>>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Sysctl<'a> {
    pub index: usize,
    pub name: Sp<&'a str>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PodSecurityContext<'a> {
    pub pos: Pos,
    pub run_as_non_root: Option<Sp<bool>>,
    pub run_as_user: Option<Sp<i64>>,
    pub run_as_group: Option<Sp<i64>>,
    pub fs_group: Option<Sp<i64>>,
    pub se_linux_options: Option<SeLinuxOptions<'a>>,
    pub seccomp_profile: Option<ProfileRef<'a>>,
    pub app_armor_profile: Option<ProfileRef<'a>>,
    pub sysctls: Vec<Sysctl<'a>>,
    pub windows_host_process: Option<Sp<bool>>,
}

/// A probe or lifecycle handler: only the fields that can point at another host.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Handler<'a> {
    /// `livenessProbe`, `lifecycle/postStart`, …
    pub field: &'static str,
    pub pos: Pos,
    pub http_get_host: Option<Sp<&'a str>>,
    pub tcp_socket_host: Option<Sp<&'a str>>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PortSpec {
    pub index: usize,
    pub pos: Pos,
    pub container_port: Option<Sp<i64>>,
    pub host_port: Option<Sp<i64>>,
}

#[derive(Clone, Debug)]
pub struct Container<'a> {
    pub kind: ContainerKind,
    /// `env`, decoded once (see [`EnvEntry`]).
    pub env: Vec<EnvEntry<'a>>,
    /// JSON pointer of the container object.
    pub ptr: String,
    pub pos: Pos,
    pub name: &'a str,
    pub image: Option<Sp<&'a str>>,
    /// `image` split into registry, repository, tag and digest (a dozen rules read it).
    pub image_ref: Option<super::ImageRef<'a>>,
    pub security_context: Option<SecurityContext<'a>>,
    pub ports: Vec<PortSpec>,
    pub handlers: Vec<Handler<'a>>,
    /// The whole container, for rules that read fields not modelled here.
    pub raw: &'a Node<'a>,
}

/// One `env` entry of a container.
#[derive(Clone, Copy, Debug)]
pub struct EnvEntry<'a> {
    /// Index of the entry in `env`.
    pub index: usize,
    pub name: &'a str,
    /// Where the entry starts (its `- name:` line).
    pub pos: Pos,
    /// The literal `value`, when the entry has a non-null one.
    pub value: Option<&'a Node<'a>>,
    /// Whether the entry reads its value from elsewhere (a non-null `valueFrom`).
    pub value_from: bool,
}

#[derive(Clone, Debug)]
pub struct Volume<'a> {
    pub index: usize,
    pub pos: Pos,
    pub name: &'a str,
    /// Keys other than `name`: the volume source(s), with positions.
    pub sources: Vec<Sp<&'a str>>,
    pub raw: &'a Node<'a>,
}

/// Pod-template metadata (annotations matter to PSS and to inline suppression).
#[derive(Clone, Debug, Default)]
pub struct PodMeta<'a> {
    pub ptr: String,
    pub pos: Pos,
    pub annotations: Vec<(Sp<&'a str>, Sp<&'a str>)>,
    pub labels: Vec<(Sp<&'a str>, Sp<&'a str>)>,
}

impl<'a> PodMeta<'a> {
    #[must_use]
    pub fn annotation(&self, key: &str) -> Option<Sp<&'a str>> {
        self.annotations
            .iter()
            .rev()
            .find(|(k, _)| k.value == key)
            .map(|(_, v)| *v)
    }

    pub fn decode(node: Option<&'a Node<'a>>, ptr: String, d: &mut Decoder) -> PodMeta<'a> {
        let mut meta = PodMeta {
            pos: node.map_or_else(Pos::default, |n| n.pos),
            ..PodMeta::default()
        };
        if let Some(m) = d.map(node, &ptr) {
            meta.annotations = string_map(m.get("annotations"), &Key(&ptr, "annotations"), d);
            meta.labels = string_map(m.get("labels"), &Key(&ptr, "labels"), d);
        }
        meta.ptr = ptr;
        meta
    }
}

fn string_map<'a>(
    node: Option<&'a Node<'a>>,
    ptr: &dyn Pointer,
    d: &mut Decoder,
) -> Vec<(Sp<&'a str>, Sp<&'a str>)> {
    let Some(m) = d.map(node, ptr) else {
        return Vec::new();
    };
    let entries = m.as_map().unwrap_or_default();
    let mut out = Vec::with_capacity(entries.len());
    for e in entries {
        let value_ptr = Key(ptr, &e.key);
        // Annotation and label values are strings; a plain `true` is an API error too.
        if let Some(v) = d.str(Some(&e.value), &value_ptr) {
            out.push((
                Sp {
                    value: e.key.as_ref(),
                    pos: e.key_pos,
                },
                v,
            ));
        } else if e.value.is_null() {
            out.push((
                Sp {
                    value: e.key.as_ref(),
                    pos: e.key_pos,
                },
                Sp {
                    value: "",
                    pos: e.value.pos,
                },
            ));
        }
    }
    out
}

/// A pod spec, wherever it was found (a Pod, a template, a CRD field).
#[derive(Clone, Debug)]
pub struct PodSpec<'a> {
    pub ptr: String,
    pub pos: Pos,
    pub host_network: Option<Sp<bool>>,
    pub host_pid: Option<Sp<bool>>,
    pub host_ipc: Option<Sp<bool>>,
    pub host_users: Option<Sp<bool>>,
    pub os_name: Option<Sp<&'a str>>,
    pub security_context: Option<PodSecurityContext<'a>>,
    pub volumes: Vec<Volume<'a>>,
    /// Init, regular, ephemeral and CRD-specific containers, in that order.
    pub containers: Vec<Container<'a>>,
    pub raw: &'a Node<'a>,
}

impl<'a> PodSpec<'a> {
    /// Decodes a pod spec; `extra_containers` are containers a CRD keeps outside the pod
    /// spec's lists (KServe's `predictor.model`).
    pub fn decode(
        node: &'a Node<'a>,
        ptr: String,
        extra_containers: &[(String, &'a Node<'a>)],
        d: &mut Decoder,
    ) -> PodSpec<'a> {
        let field = |k: &str| node.get(k);
        let p = |k: &'static str| Key(&ptr, k);
        let mut spec = PodSpec {
            pos: node.pos,
            host_network: d.bool(field("hostNetwork"), &p("hostNetwork")),
            host_pid: d.bool(field("hostPID"), &p("hostPID")),
            host_ipc: d.bool(field("hostIPC"), &p("hostIPC")),
            host_users: d.bool(field("hostUsers"), &p("hostUsers")),
            os_name: {
                let os = d.map(field("os"), &p("os"));
                d.str(os.and_then(|o| o.get("name")), &Key(&p("os"), "name"))
            },
            security_context: d
                .map(field("securityContext"), &p("securityContext"))
                .map(|sc| PodSecurityContext {
                    pos: key_pos(node, "securityContext"),
                    ..decode_pod_security_context(sc, &p("securityContext"), d)
                }),
            volumes: Vec::new(),
            containers: Vec::new(),
            raw: node,
            ptr: String::new(),
        };
        let volumes_ptr = p("volumes");
        for (i, v) in d.seq(field("volumes"), &volumes_ptr).iter().enumerate() {
            let vptr = Index(&volumes_ptr, i);
            let Some(vm) = d.map(Some(v), &vptr) else {
                continue;
            };
            let name = d
                .str(vm.get("name"), &Key(&vptr, "name"))
                .map_or("", |s| s.value);
            let sources = vm
                .as_map()
                .unwrap_or_default()
                .iter()
                .filter(|e| e.key != "name" && !e.value.is_null())
                .map(|e| Sp {
                    value: e.key.as_ref(),
                    pos: e.key_pos,
                })
                .collect();
            spec.volumes.push(Volume {
                index: i,
                pos: v.pos,
                name,
                sources,
                raw: v,
            });
        }
        for kind in [
            ContainerKind::Init,
            ContainerKind::Regular,
            ContainerKind::Ephemeral,
        ] {
            let list_ptr = p(kind.field());
            for (i, c) in d.seq(field(kind.field()), &list_ptr).iter().enumerate() {
                let cptr = Index(&list_ptr, i);
                if let Some(c) = d.map(Some(c), &cptr) {
                    // Rules name the container's pointer in their findings, so this one
                    // is a `String`.
                    spec.containers
                        .push(decode_container(c, kind, cptr.render(), d));
                }
            }
        }
        for (cptr, c) in extra_containers {
            if let Some(c) = d.map(Some(c), cptr) {
                let mut container = decode_container(c, ContainerKind::Regular, cptr.clone(), d);
                if container.name.is_empty() {
                    // KServe names the container it builds from `predictor.model` this way.
                    container.name = "kserve-container";
                }
                spec.containers.push(container);
            }
        }
        spec.ptr = ptr;
        spec
    }

    /// Whether the pod declares itself a Windows pod (`spec.os.name: windows`).
    #[must_use]
    pub fn is_windows(&self) -> bool {
        self.os_name.is_some_and(|o| o.value == "windows")
    }

    /// `hostUsers: false`: the pod runs in a user namespace.
    #[must_use]
    pub fn in_user_namespace(&self) -> bool {
        self.host_users.is_some_and(|h| !h.value)
    }
}

fn decode_profile<'a>(
    parent: &'a Node<'a>,
    key: &str,
    ptr: &dyn Pointer,
    d: &mut Decoder,
) -> Option<ProfileRef<'a>> {
    let m = d.map(parent.get(key), ptr)?;
    Some(ProfileRef {
        pos: key_pos(parent, key),
        type_: d.str(m.get("type"), &Key(ptr, "type")),
        localhost_profile: d.str(m.get("localhostProfile"), &Key(ptr, "localhostProfile")),
    })
}

fn decode_selinux<'a>(
    parent: &'a Node<'a>,
    key: &str,
    ptr: &dyn Pointer,
    d: &mut Decoder,
) -> Option<SeLinuxOptions<'a>> {
    let m = d.map(parent.get(key), ptr)?;
    Some(SeLinuxOptions {
        pos: key_pos(parent, key),
        type_: d.str(m.get("type"), &Key(ptr, "type")),
        user: d.str(m.get("user"), &Key(ptr, "user")),
        role: d.str(m.get("role"), &Key(ptr, "role")),
        level: d.str(m.get("level"), &Key(ptr, "level")),
    })
}

fn decode_windows_host_process(
    node: &Node<'_>,
    ptr: &dyn Pointer,
    d: &mut Decoder,
) -> Option<Sp<bool>> {
    let wptr = Key(ptr, "windowsOptions");
    let w = d.map(node.get("windowsOptions"), &wptr)?;
    d.bool(w.get("hostProcess"), &Key(&wptr, "hostProcess"))
}

fn decode_pod_security_context<'a>(
    sc: &'a Node<'a>,
    ptr: &dyn Pointer,
    d: &mut Decoder,
) -> PodSecurityContext<'a> {
    let p = |k: &'static str| Key(ptr, k);
    let sysctls_ptr = p("sysctls");
    let mut sysctls = Vec::new();
    for (i, s) in d.seq(sc.get("sysctls"), &sysctls_ptr).iter().enumerate() {
        let sptr = Index(&sysctls_ptr, i);
        if let Some(sm) = d.map(Some(s), &sptr)
            && let Some(name) = d.str(sm.get("name"), &Key(&sptr, "name"))
        {
            sysctls.push(Sysctl { index: i, name });
        }
    }
    PodSecurityContext {
        pos: sc.pos,
        run_as_non_root: d.bool(sc.get("runAsNonRoot"), &p("runAsNonRoot")),
        run_as_user: d.int(sc.get("runAsUser"), &p("runAsUser")),
        run_as_group: d.int(sc.get("runAsGroup"), &p("runAsGroup")),
        fs_group: d.int(sc.get("fsGroup"), &p("fsGroup")),
        se_linux_options: decode_selinux(sc, "seLinuxOptions", &p("seLinuxOptions"), d),
        seccomp_profile: decode_profile(sc, "seccompProfile", &p("seccompProfile"), d),
        app_armor_profile: decode_profile(sc, "appArmorProfile", &p("appArmorProfile"), d),
        sysctls,
        windows_host_process: decode_windows_host_process(sc, ptr, d),
    }
}

fn decode_security_context<'a>(
    sc: &'a Node<'a>,
    ptr: &dyn Pointer,
    d: &mut Decoder,
) -> SecurityContext<'a> {
    let p = |k: &'static str| Key(ptr, k);
    let caps_ptr = p("capabilities");
    let capabilities = d.map(sc.get("capabilities"), &caps_ptr).map(|caps| {
        let mut list = |key: &'static str| {
            let lptr = Key(&caps_ptr, key);
            d.seq(caps.get(key), &lptr)
                .iter()
                .enumerate()
                .filter_map(|(i, n)| d.str(Some(n), &Index(&lptr, i)))
                .collect::<Vec<_>>()
        };
        let add = list("add");
        let drop = list("drop");
        Capabilities {
            pos: key_pos(sc, "capabilities"),
            add,
            drop,
            drop_pos: caps.get_entry("drop").map(|e| e.key_pos),
        }
    });
    SecurityContext {
        pos: sc.pos,
        privileged: d.bool(sc.get("privileged"), &p("privileged")),
        allow_privilege_escalation: d.bool(
            sc.get("allowPrivilegeEscalation"),
            &p("allowPrivilegeEscalation"),
        ),
        read_only_root_filesystem: d.bool(
            sc.get("readOnlyRootFilesystem"),
            &p("readOnlyRootFilesystem"),
        ),
        capabilities,
        run_as_non_root: d.bool(sc.get("runAsNonRoot"), &p("runAsNonRoot")),
        run_as_user: d.int(sc.get("runAsUser"), &p("runAsUser")),
        run_as_group: d.int(sc.get("runAsGroup"), &p("runAsGroup")),
        se_linux_options: decode_selinux(sc, "seLinuxOptions", &p("seLinuxOptions"), d),
        seccomp_profile: decode_profile(sc, "seccompProfile", &p("seccompProfile"), d),
        app_armor_profile: decode_profile(sc, "appArmorProfile", &p("appArmorProfile"), d),
        proc_mount: d.str(sc.get("procMount"), &p("procMount")),
        windows_host_process: decode_windows_host_process(sc, ptr, d),
    }
}

fn decode_handler<'a>(
    node: Option<&'a Node<'a>>,
    field: &'static str,
    ptr: &dyn Pointer,
    d: &mut Decoder,
) -> Option<Handler<'a>> {
    let handler_pos = node.map_or_else(Pos::default, |n| n.pos);
    let h = d.map(node, ptr)?;
    let host = |d: &mut Decoder, action: &'static str| {
        let aptr = Key(ptr, action);
        let a = d.map(h.get(action), &aptr)?;
        d.str(a.get("host"), &Key(&aptr, "host"))
    };
    let http_get_host = host(d, "httpGet");
    let tcp_socket_host = host(d, "tcpSocket");
    Some(Handler {
        field,
        pos: handler_pos,
        http_get_host,
        tcp_socket_host,
    })
}

/// The `env` entries that are mappings with a string `name`, read once for the dozen rules
/// that look at env (entries of other shapes are left to the API server's validation, as
/// before the model carried env).
fn decode_env<'a>(env: Option<&'a Node<'a>>) -> Vec<EnvEntry<'a>> {
    let Some(items) = env.and_then(Node::as_seq) else {
        return Vec::new();
    };
    let mut out = Vec::with_capacity(items.len());
    for (index, item) in items.iter().enumerate() {
        let (mut name, mut value, mut value_from) = (None, None, false);
        // One pass over the entry's keys; the last duplicate wins, as with `Node::get`.
        for e in item.as_map().unwrap_or_default() {
            match e.key.as_ref() {
                "name" => name = e.value.as_str(),
                "value" => value = Some(&e.value).filter(|v| !v.is_null()),
                "valueFrom" => value_from = !e.value.is_null(),
                _ => {}
            }
        }
        if let Some(name) = name {
            out.push(EnvEntry {
                index,
                name,
                pos: item.pos,
                value,
                value_from,
            });
        }
    }
    out
}

/// The container fields the model reads, found in one pass over the container's keys:
/// looking each one up with `Node::get` scanned the keys once per field.
#[derive(Default)]
struct ContainerFields<'n, 'a> {
    name: Option<&'n Entry<'a>>,
    image: Option<&'n Entry<'a>>,
    env: Option<&'n Entry<'a>>,
    ports: Option<&'n Entry<'a>>,
    /// `livenessProbe`, `readinessProbe`, `startupProbe`, in the order of [`PROBES`].
    probes: [Option<&'n Entry<'a>>; 3],
    lifecycle: Option<&'n Entry<'a>>,
    security_context: Option<&'n Entry<'a>>,
}

const PROBES: [&str; 3] = ["livenessProbe", "readinessProbe", "startupProbe"];

impl<'n, 'a> ContainerFields<'n, 'a> {
    fn of(c: &'n Node<'a>) -> Self {
        let mut f = ContainerFields::default();
        for e in c.as_map().unwrap_or_default() {
            // A later duplicate key replaces an earlier one, as `Node::get` finds the last.
            let slot = match e.key.as_ref() {
                "name" => &mut f.name,
                "image" => &mut f.image,
                "env" => &mut f.env,
                "ports" => &mut f.ports,
                "livenessProbe" => &mut f.probes[0],
                "readinessProbe" => &mut f.probes[1],
                "startupProbe" => &mut f.probes[2],
                "lifecycle" => &mut f.lifecycle,
                "securityContext" => &mut f.security_context,
                _ => continue,
            };
            *slot = Some(e);
        }
        f
    }
}

fn value<'n, 'a>(entry: Option<&'n Entry<'a>>) -> Option<&'n Node<'a>> {
    entry.map(|e| &e.value)
}

fn decode_container<'a>(
    c: &'a Node<'a>,
    kind: ContainerKind,
    ptr: String,
    d: &mut Decoder,
) -> Container<'a> {
    let p = |k: &'static str| Key(&ptr, k);
    let f = ContainerFields::of(c);
    let ports_ptr = p("ports");
    let mut ports = Vec::new();
    for (i, port) in d.seq(value(f.ports), &ports_ptr).iter().enumerate() {
        let pp = Index(&ports_ptr, i);
        if let Some(pm) = d.map(Some(port), &pp) {
            ports.push(PortSpec {
                index: i,
                pos: pm.pos,
                container_port: d.int(pm.get("containerPort"), &Key(&pp, "containerPort")),
                host_port: d.int(pm.get("hostPort"), &Key(&pp, "hostPort")),
            });
        }
    }
    let mut handlers = Vec::new();
    for (probe, entry) in PROBES.into_iter().zip(f.probes) {
        handlers.extend(decode_handler(value(entry), probe, &p(probe), d));
    }
    let lifecycle_ptr = p("lifecycle");
    if let Some(lc) = d.map(value(f.lifecycle), &lifecycle_ptr) {
        for (hook, field) in [
            ("postStart", "lifecycle/postStart"),
            ("preStop", "lifecycle/preStop"),
        ] {
            handlers.extend(decode_handler(
                lc.get(hook),
                field,
                &Key(&lifecycle_ptr, hook),
                d,
            ));
        }
    }
    let image = d.str(value(f.image), &p("image"));
    Container {
        kind,
        env: decode_env(value(f.env)),
        pos: c.pos,
        name: d.str(value(f.name), &p("name")).map_or("", |s| s.value),
        image,
        image_ref: image.map(|i| super::parse_image(i.value)),
        security_context: f.security_context.and_then(|e| {
            let sc = d.map(Some(&e.value), &p("securityContext"))?;
            Some(SecurityContext {
                pos: e.key_pos,
                ..decode_security_context(sc, &p("securityContext"), d)
            })
        }),
        ports,
        handlers,
        raw: c,
        ptr,
    }
}

/// Where `key` is written in `parent`: findings about a missing field point at the line of the
/// parent key (`securityContext:`), which is where the fix goes.
fn key_pos(parent: &Node<'_>, key: &str) -> Pos {
    parent.get_entry(key).map_or(parent.pos, |e| e.key_pos)
}
