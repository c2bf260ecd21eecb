//! A disk that loses power: an in-memory filesystem, mounted with FUSE, that keeps beside what
//! programs see what an `fsync` put on the platter. [`LossyDisk::cut`] throws the rest away, as
//! a power cut does to a disk's write cache and the kernel's dirty pages: a file's bytes are
//! those of its last `fsync`, a directory's names those of its last `fsync` on the directory
//! (a file created, renamed or deleted since is not, or still is, there). This is the
//! pessimistic reading of POSIX that careful storage code is written against (LazyFS and
//! dm-flakey's `drop_writes` test the same), stricter than ext4's ordered mode.
//!
//! Linux only; mounting needs root (or a FUSE the user may mount). Everything the disk holds is
//! in the memory of the process that mounts it, which must not be the one that is cut.

use fuser::{
    Errno, FileAttr, FileHandle, FileType, Filesystem, FopenFlags, Generation, INodeNo, LockOwner,
    OpenFlags, RenameFlags, ReplyAttr, ReplyCreate, ReplyData, ReplyDirectory, ReplyEmpty,
    ReplyEntry, ReplyOpen, ReplyStatfs, ReplyWrite, Request, TimeOrNow, WriteFlags,
};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::ffi::{OsStr, OsString};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, SystemTime};

/// How long the kernel may cache names and attributes: only the mounted programs change them.
const TTL: Duration = Duration::from_secs(1);

/// What `statfs` reports: 4 GiB with 3 GiB free, so that free-space checks pass.
const BLOCK: u64 = 4096;
const BLOCKS: u64 = (4 << 30) / BLOCK;
const FREE: u64 = (3 << 30) / BLOCK;

/// A file's bytes in chunks shared between its live and its synced copy: an `fsync` copies
/// pointers, a write copies only the chunks it touches (a station's database grows to hundreds
/// of megabytes over a long campaign).
#[derive(Debug, Clone, Default)]
struct Bytes {
    len: usize,
    chunks: Vec<Arc<Vec<u8>>>,
}

const CHUNK: usize = 64 * 1024;

impl Bytes {
    fn len(&self) -> usize {
        self.len
    }

    fn read(&self, offset: usize, size: usize) -> Vec<u8> {
        let end = (offset + size).min(self.len);
        let mut out = Vec::with_capacity(end.saturating_sub(offset));
        let mut at = offset;
        while at < end {
            let (i, within) = (at / CHUNK, at % CHUNK);
            let n = (CHUNK - within).min(end - at);
            out.extend_from_slice(&self.chunks[i][within..within + n]);
            at += n;
        }
        out
    }

    fn resize(&mut self, len: usize) {
        let chunks = len.div_ceil(CHUNK);
        self.chunks.truncate(chunks);
        // Bytes past the new end are zero if the file grows again.
        if len < self.len
            && let Some(last) = self.chunks.last_mut()
            && !len.is_multiple_of(CHUNK)
        {
            Arc::make_mut(last)[len % CHUNK..].fill(0);
        }
        while self.chunks.len() < chunks {
            self.chunks.push(Arc::new(vec![0; CHUNK]));
        }
        self.len = len;
    }

    fn write(&mut self, offset: usize, data: &[u8]) {
        if self.len < offset + data.len() {
            self.resize(offset + data.len());
        }
        let mut done = 0;
        while done < data.len() {
            let at = offset + done;
            let (i, within) = (at / CHUNK, at % CHUNK);
            let n = (CHUNK - within).min(data.len() - done);
            Arc::make_mut(&mut self.chunks[i])[within..within + n]
                .copy_from_slice(&data[done..done + n]);
            done += n;
        }
    }
}

#[derive(Debug, Clone)]
enum Content {
    File(Bytes),
    Dir(BTreeMap<OsString, u64>),
}

#[derive(Debug)]
struct Node {
    perm: u16,
    /// What programs see.
    live: Content,
    /// What the last `fsync` made durable.
    synced: Content,
    mtime: SystemTime,
}

impl Node {
    fn new(perm: u16, content: Content) -> Node {
        let empty = match content {
            Content::File(_) => Content::File(Bytes::default()),
            Content::Dir(_) => Content::Dir(BTreeMap::new()),
        };
        Node {
            perm,
            live: content,
            synced: empty,
            mtime: SystemTime::now(),
        }
    }
}

/// The disk's contents, shared by the mounted filesystem and the [`LossyDisk`] that cuts it.
#[derive(Debug)]
struct State {
    nodes: HashMap<u64, Node>,
    next: u64,
    /// What the disk saw since the last cut.
    since_cut: Cut,
    /// Who owns every file: the owner of the mount point.
    owner: (u32, u32),
}

const ROOT: u64 = 1;

impl State {
    fn new(owner: (u32, u32)) -> State {
        let mut root = Node::new(0o755, Content::Dir(BTreeMap::new()));
        root.synced = root.live.clone();
        State {
            nodes: HashMap::from([(ROOT, root)]),
            next: ROOT + 1,
            since_cut: Cut::default(),
            owner,
        }
    }

    fn attr(&self, ino: u64) -> Option<FileAttr> {
        let n = self.nodes.get(&ino)?;
        let (kind, size, nlink) = match &n.live {
            Content::File(b) => (FileType::RegularFile, b.len() as u64, 1),
            Content::Dir(_) => (FileType::Directory, 0, 2),
        };
        Some(FileAttr {
            ino: INodeNo(ino),
            size,
            blocks: size.div_ceil(512),
            atime: n.mtime,
            mtime: n.mtime,
            ctime: n.mtime,
            crtime: n.mtime,
            kind,
            perm: n.perm,
            nlink,
            uid: self.owner.0,
            gid: self.owner.1,
            rdev: 0,
            flags: 0,
            blksize: BLOCK as u32,
        })
    }

    fn dir(&mut self, ino: u64) -> Result<&mut BTreeMap<OsString, u64>, Errno> {
        match self.nodes.get_mut(&ino).map(|n| &mut n.live) {
            Some(Content::Dir(d)) => Ok(d),
            Some(Content::File(_)) => Err(Errno::ENOTDIR),
            None => Err(Errno::ENOENT),
        }
    }

    /// A file's bytes, to change (its modification time is now).
    fn file(&mut self, ino: u64) -> Result<&mut Bytes, Errno> {
        let node = self.nodes.get_mut(&ino).ok_or(Errno::ENOENT)?;
        node.mtime = SystemTime::now();
        match &mut node.live {
            Content::File(b) => Ok(b),
            Content::Dir(_) => Err(Errno::EISDIR),
        }
    }

    fn child(&mut self, parent: u64, name: &OsStr) -> Result<Option<u64>, Errno> {
        Ok(self.dir(parent)?.get(name).copied())
    }

    fn insert(
        &mut self,
        parent: u64,
        name: &OsStr,
        perm: u16,
        content: Content,
    ) -> Result<u64, Errno> {
        if self.child(parent, name)?.is_some() {
            return Err(Errno::EEXIST);
        }
        let ino = self.next;
        self.next += 1;
        self.nodes.insert(ino, Node::new(perm, content));
        self.dir(parent)?.insert(name.to_owned(), ino);
        Ok(ino)
    }

    /// The power cut: every node back to its last `fsync`, and what no durable name reaches
    /// forgotten. Returns what the disk saw since the previous cut.
    fn cut(&mut self) -> Cut {
        for node in self.nodes.values_mut() {
            node.live = node.synced.clone();
        }
        let mut reachable = HashSet::from([ROOT]);
        let mut todo = vec![ROOT];
        while let Some(ino) = todo.pop() {
            if let Some(Content::Dir(d)) = self.nodes.get(&ino).map(|n| &n.live) {
                for child in d.values() {
                    if reachable.insert(*child) {
                        todo.push(*child);
                    }
                }
            }
        }
        self.nodes.retain(|ino, _| reachable.contains(ino));
        std::mem::take(&mut self.since_cut)
    }

    /// A clean shutdown: everything durable.
    fn settle(&mut self) {
        for node in self.nodes.values_mut() {
            node.synced = node.live.clone();
        }
    }
}

/// The filesystem the kernel talks to.
struct Fs(Arc<Mutex<State>>);

impl Fs {
    fn state(&self) -> MutexGuard<'_, State> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

fn entry(reply: ReplyEntry, st: &State, ino: Result<u64, Errno>) {
    match ino.and_then(|ino| st.attr(ino).ok_or(Errno::ENOENT)) {
        Ok(attr) => reply.entry(&TTL, &attr, Generation(0)),
        Err(e) => reply.error(e),
    }
}

fn empty(reply: ReplyEmpty, result: Result<(), Errno>) {
    match result {
        Ok(()) => reply.ok(),
        Err(e) => reply.error(e),
    }
}

impl Filesystem for Fs {
    fn lookup(&self, _req: &Request, parent: INodeNo, name: &OsStr, reply: ReplyEntry) {
        let mut st = self.state();
        let ino = st
            .child(parent.0, name)
            .and_then(|c| c.ok_or(Errno::ENOENT));
        entry(reply, &st, ino);
    }

    fn getattr(&self, _req: &Request, ino: INodeNo, _fh: Option<FileHandle>, reply: ReplyAttr) {
        match self.state().attr(ino.0) {
            Some(attr) => reply.attr(&TTL, &attr),
            None => reply.error(Errno::ENOENT),
        }
    }

    fn setattr(
        &self,
        _req: &Request,
        ino: INodeNo,
        mode: Option<u32>,
        _uid: Option<u32>,
        _gid: Option<u32>,
        size: Option<u64>,
        _atime: Option<TimeOrNow>,
        _mtime: Option<TimeOrNow>,
        _ctime: Option<SystemTime>,
        _fh: Option<FileHandle>,
        _crtime: Option<SystemTime>,
        _chgtime: Option<SystemTime>,
        _bkuptime: Option<SystemTime>,
        _flags: Option<fuser::BsdFileFlags>,
        reply: ReplyAttr,
    ) {
        let mut st = self.state();
        if let Some(size) = size {
            match st.file(ino.0) {
                Ok(bytes) => bytes.resize(size as usize),
                Err(e) => return reply.error(e),
            }
        }
        if let Some(mode) = mode
            && let Some(n) = st.nodes.get_mut(&ino.0)
        {
            n.perm = (mode & 0o7777) as u16;
        }
        match st.attr(ino.0) {
            Some(attr) => reply.attr(&TTL, &attr),
            None => reply.error(Errno::ENOENT),
        }
    }

    fn mkdir(
        &self,
        _req: &Request,
        parent: INodeNo,
        name: &OsStr,
        mode: u32,
        umask: u32,
        reply: ReplyEntry,
    ) {
        let mut st = self.state();
        let perm = (mode & !umask & 0o7777) as u16;
        let ino = st.insert(parent.0, name, perm, Content::Dir(BTreeMap::new()));
        entry(reply, &st, ino);
    }

    fn unlink(&self, _req: &Request, parent: INodeNo, name: &OsStr, reply: ReplyEmpty) {
        let mut st = self.state();
        let result = match st.child(parent.0, name) {
            Ok(Some(ino)) if matches!(st.nodes[&ino].live, Content::Dir(_)) => Err(Errno::EISDIR),
            Ok(Some(_)) => st.dir(parent.0).map(|d| {
                d.remove(name);
            }),
            Ok(None) => Err(Errno::ENOENT),
            Err(e) => Err(e),
        };
        empty(reply, result);
    }

    fn rmdir(&self, _req: &Request, parent: INodeNo, name: &OsStr, reply: ReplyEmpty) {
        let mut st = self.state();
        let result = match st.child(parent.0, name) {
            Ok(Some(ino)) => match &st.nodes[&ino].live {
                Content::Dir(d) if d.is_empty() => st.dir(parent.0).map(|d| {
                    d.remove(name);
                }),
                Content::Dir(_) => Err(Errno::ENOTEMPTY),
                Content::File(_) => Err(Errno::ENOTDIR),
            },
            Ok(None) => Err(Errno::ENOENT),
            Err(e) => Err(e),
        };
        empty(reply, result);
    }

    fn rename(
        &self,
        _req: &Request,
        parent: INodeNo,
        name: &OsStr,
        newparent: INodeNo,
        newname: &OsStr,
        flags: RenameFlags,
        reply: ReplyEmpty,
    ) {
        let mut st = self.state();
        let result = (|| {
            if flags.contains(RenameFlags::RENAME_EXCHANGE)
                || flags.contains(RenameFlags::RENAME_WHITEOUT)
            {
                return Err(Errno::EINVAL);
            }
            let ino = st.child(parent.0, name)?.ok_or(Errno::ENOENT)?;
            if let Some(target) = st.child(newparent.0, newname)? {
                if flags.contains(RenameFlags::RENAME_NOREPLACE) {
                    return Err(Errno::EEXIST);
                }
                if let Content::Dir(d) = &st.nodes[&target].live
                    && !d.is_empty()
                {
                    return Err(Errno::ENOTEMPTY);
                }
            }
            st.dir(parent.0)?.remove(name);
            st.dir(newparent.0)?.insert(newname.to_owned(), ino);
            Ok(())
        })();
        empty(reply, result);
    }

    fn open(&self, _req: &Request, ino: INodeNo, flags: OpenFlags, reply: ReplyOpen) {
        let mut st = self.state();
        if flags.0 & libc::O_TRUNC != 0 {
            match st.file(ino.0) {
                Ok(bytes) => bytes.resize(0),
                Err(e) => return reply.error(e),
            }
        }
        reply.opened(FileHandle(0), FopenFlags::empty());
    }

    fn read(
        &self,
        _req: &Request,
        ino: INodeNo,
        _fh: FileHandle,
        offset: u64,
        size: u32,
        _flags: OpenFlags,
        _lock_owner: Option<LockOwner>,
        reply: ReplyData,
    ) {
        let st = self.state();
        match st.nodes.get(&ino.0).map(|n| &n.live) {
            Some(Content::File(bytes)) => reply.data(&bytes.read(offset as usize, size as usize)),
            Some(Content::Dir(_)) => reply.error(Errno::EISDIR),
            None => reply.error(Errno::ENOENT),
        }
    }

    fn write(
        &self,
        _req: &Request,
        ino: INodeNo,
        _fh: FileHandle,
        offset: u64,
        data: &[u8],
        _write_flags: WriteFlags,
        _flags: OpenFlags,
        _lock_owner: Option<LockOwner>,
        reply: ReplyWrite,
    ) {
        let mut st = self.state();
        match st.file(ino.0) {
            Ok(bytes) => {
                bytes.write(offset as usize, data);
                st.since_cut.written += data.len() as u64;
                reply.written(data.len() as u32);
            }
            Err(e) => reply.error(e),
        }
    }

    fn fsync(
        &self,
        _req: &Request,
        ino: INodeNo,
        _fh: FileHandle,
        _datasync: bool,
        reply: ReplyEmpty,
    ) {
        let mut st = self.state();
        st.since_cut.fsyncs += 1;
        let result = match st.nodes.get_mut(&ino.0) {
            Some(n) => {
                n.synced = n.live.clone();
                Ok(())
            }
            None => Err(Errno::ENOENT),
        };
        empty(reply, result);
    }

    fn readdir(
        &self,
        _req: &Request,
        ino: INodeNo,
        _fh: FileHandle,
        offset: u64,
        mut reply: ReplyDirectory,
    ) {
        let mut st = self.state();
        let children: Vec<(OsString, u64)> = match st.dir(ino.0) {
            Ok(d) => d.iter().map(|(n, i)| (n.clone(), *i)).collect(),
            Err(e) => return reply.error(e),
        };
        let listing = [
            (OsString::from("."), ino.0, FileType::Directory),
            (OsString::from(".."), ino.0, FileType::Directory),
        ]
        .into_iter()
        .chain(children.into_iter().map(|(name, child)| {
            let kind = match st.nodes.get(&child).map(|n| &n.live) {
                Some(Content::Dir(_)) => FileType::Directory,
                _ => FileType::RegularFile,
            };
            (name, child, kind)
        }));
        for (i, (name, child, kind)) in listing.enumerate().skip(offset as usize) {
            if reply.add(INodeNo(child), (i + 1) as u64, kind, name) {
                break;
            }
        }
        reply.ok();
    }

    fn fsyncdir(
        &self,
        req: &Request,
        ino: INodeNo,
        fh: FileHandle,
        datasync: bool,
        reply: ReplyEmpty,
    ) {
        self.fsync(req, ino, fh, datasync, reply);
    }

    fn statfs(&self, _req: &Request, _ino: INodeNo, reply: ReplyStatfs) {
        reply.statfs(
            BLOCKS,
            FREE,
            FREE,
            1 << 20,
            1 << 20,
            BLOCK as u32,
            255,
            BLOCK as u32,
        );
    }

    fn create(
        &self,
        _req: &Request,
        parent: INodeNo,
        name: &OsStr,
        mode: u32,
        umask: u32,
        _flags: i32,
        reply: ReplyCreate,
    ) {
        let mut st = self.state();
        let perm = (mode & !umask & 0o7777) as u16;
        match st
            .insert(parent.0, name, perm, Content::File(Bytes::default()))
            .and_then(|ino| st.attr(ino).ok_or(Errno::ENOENT))
        {
            Ok(attr) => reply.created(
                &TTL,
                &attr,
                Generation(0),
                FileHandle(0),
                FopenFlags::empty(),
            ),
            Err(e) => reply.error(e),
        }
    }
}

/// A mounted lossy disk. Dropping it unmounts it and forgets everything on it.
pub struct LossyDisk {
    state: Arc<Mutex<State>>,
    mountpoint: PathBuf,
    session: Option<fuser::BackgroundSession>,
}

impl std::fmt::Debug for LossyDisk {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LossyDisk")
            .field("mountpoint", &self.mountpoint)
            .finish_non_exhaustive()
    }
}

/// What the disk saw between two cuts (all of it unsynced was thrown away by the second).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Cut {
    /// Bytes written since the previous cut.
    pub written: u64,
    /// `fsync` calls since the previous cut.
    pub fsyncs: u64,
}

impl LossyDisk {
    /// Mounts an empty disk at `mountpoint` (an empty directory).
    pub fn mount(mountpoint: &Path) -> std::io::Result<LossyDisk> {
        use std::os::unix::fs::MetadataExt as _;
        let meta = std::fs::metadata(mountpoint)?;
        let mut disk = LossyDisk {
            state: Arc::new(Mutex::new(State::new((meta.uid(), meta.gid())))),
            mountpoint: mountpoint.to_owned(),
            session: None,
        };
        disk.attach()?;
        Ok(disk)
    }

    fn attach(&mut self) -> std::io::Result<()> {
        let mut config = fuser::Config::default();
        config.mount_options = vec![
            fuser::MountOption::FSName("rekam-lossy".into()),
            fuser::MountOption::DefaultPermissions,
        ];
        config.n_threads = Some(2);
        self.session = Some(fuser::spawn_mount(
            Fs(self.state.clone()),
            &self.mountpoint,
            &config,
        )?);
        Ok(())
    }

    fn detach(&mut self) -> std::io::Result<()> {
        match self
            .session
            .take()
            .map(fuser::BackgroundSession::umount_and_join)
        {
            // The unmount went through (a busy disk fails before it) and everything is in
            // `state`. Where FUSE_ABORT_ERROR is negotiated the kernel ends the connection with
            // ECONNABORTED instead of ENODEV, and fuser 0.18 returns that as an error (fixed
            // upstream, cberner/fuser#708, not in a release here). Seen in a 1000-cut campaign.
            Some(Err(e)) if e.raw_os_error() == Some(libc::ECONNABORTED) => Ok(()),
            Some(r) => r,
            None => Ok(()),
        }
    }

    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The power goes: what no `fsync` made durable is gone. Every program using the disk must
    /// be dead (the kernel refuses to unmount a busy disk: an error here says one is not).
    /// The disk is mounted again as the machine would find it on the next boot.
    pub fn cut(&mut self) -> std::io::Result<Cut> {
        self.detach()?;
        let cut = self.state().cut();
        self.attach()?;
        Ok(cut)
    }

    /// A clean shutdown: everything written so far is durable.
    pub fn settle(&self) {
        self.state().settle();
    }
}

impl Drop for LossyDisk {
    fn drop(&mut self) {
        let _ = self.detach();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bytes_behave_as_a_vec_across_chunks_and_share_what_is_unchanged() {
        let mut b = Bytes::default();
        let mut v: Vec<u8> = Vec::new();
        let mut seed = 7u64;
        for _ in 0..200 {
            seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
            let offset = (seed >> 33) as usize % (3 * CHUNK);
            let len = (seed >> 20) as usize % (CHUNK + 100);
            if seed.is_multiple_of(5) {
                b.resize(offset);
                v.resize(offset, 0);
            } else {
                let data: Vec<u8> = (0..len).map(|i| (i as u64 ^ seed) as u8).collect();
                b.write(offset, &data);
                if v.len() < offset + len {
                    v.resize(offset + len, 0);
                }
                v[offset..offset + len].copy_from_slice(&data);
            }
            assert_eq!(b.len(), v.len());
            assert_eq!(b.read(0, v.len() + 10), v);
        }
        let synced = b.clone();
        b.write(0, b"x");
        assert!(
            Arc::ptr_eq(&synced.chunks[1], &b.chunks[1]),
            "untouched chunk shared"
        );
        assert!(
            !Arc::ptr_eq(&synced.chunks[0], &b.chunks[0]),
            "written chunk copied"
        );
    }
}
