//! Runs the npm test tools (`tests/js/package-lock.json`) on `tests/js` scripts, time-bounded.

use std::fs::{self, File};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// A scratch directory next to the installed `node_modules`, so the scripts copied into it
/// resolve the installed packages. Removed on drop.
pub struct NodeTools {
    work: PathBuf,
    root: PathBuf,
}

/// What a finished tool wrote.
pub struct Finished {
    pub stdout: String,
    pub stderr: String,
}

impl NodeTools {
    /// Fails the test, saying how to fix it, when the tools are not installed.
    pub fn new(name: &str) -> Self {
        let root = PathBuf::from(std::env::var_os("NODE_TOOLS").expect(
            "NODE_TOOLS is not set: run the suite with scripts/test.sh (or run \
             scripts/prepare-test-tools.sh and source target/test-tools/env.sh)",
        ));
        assert!(
            root.join("node_modules").is_dir(),
            "{} has no node_modules: run scripts/prepare-test-tools.sh",
            root.display()
        );
        let status = Command::new("node").arg("--version").output();
        assert!(
            status.is_ok_and(|out| out.status.success()),
            "node is not on PATH: run scripts/prepare-test-tools.sh"
        );
        let work = root
            .join("runs")
            .join(format!("{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&work);
        fs::create_dir_all(&work).unwrap();
        Self { work, root }
    }

    /// Copies `tests/js/<file>` into the scratch directory and returns its new path.
    pub fn copy_in(&self, file: &str) -> PathBuf {
        let source = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/js")
            .join(file);
        let target = self.work.join(file);
        fs::copy(&source, &target).unwrap();
        target
    }

    /// An installed package's command, e.g. `tsc`.
    pub fn bin(&self, name: &str) -> PathBuf {
        self.root.join("node_modules/.bin").join(name)
    }

    /// Runs `program` in the scratch directory; panics with its output when it fails or
    /// outlives `limit`.
    pub fn run(&self, program: &Path, args: &[&str], limit: Duration) -> Finished {
        let label = program.file_name().unwrap().to_string_lossy().into_owned();
        let stdout_path = self.work.join(format!("{label}.stdout"));
        let stderr_path = self.work.join(format!("{label}.stderr"));
        let mut child = Command::new(program)
            .args(args)
            .current_dir(&self.work)
            .stdin(Stdio::null())
            .stdout(File::create(&stdout_path).unwrap())
            .stderr(File::create(&stderr_path).unwrap())
            .spawn()
            .unwrap_or_else(|err| panic!("cannot start {}: {err}", program.display()));
        let started = Instant::now();
        let status = loop {
            if let Some(status) = child.try_wait().unwrap() {
                break Some(status);
            }
            if started.elapsed() > limit {
                let _ = child.kill();
                let _ = child.wait();
                break None;
            }
            std::thread::sleep(Duration::from_millis(100));
        };
        let finished = Finished {
            stdout: fs::read_to_string(&stdout_path).unwrap_or_default(),
            stderr: fs::read_to_string(&stderr_path).unwrap_or_default(),
        };
        match status {
            Some(status) if status.success() => finished,
            Some(status) => panic!(
                "{label} {args:?} failed ({status}):\n{}\n{}",
                finished.stdout, finished.stderr
            ),
            None => panic!(
                "{label} {args:?} still running after {limit:?}:\n{}\n{}",
                finished.stdout, finished.stderr
            ),
        }
    }
}

impl Drop for NodeTools {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.work);
    }
}
