//! A repository with git submodules: each is fetched at the commit the repository records
//! (a relative URL resolved against the repository's), so the image holds its files; a
//! submodule whose URL Berth may not fetch fails the build before anything is fetched,
//! naming it and its path, and the running version keeps serving.

use crate::common::api::Api;
use crate::common::git_repo::{dockerfile, git, Repo};
use crate::common::quick_worker;
use crate::fixtures::{finished, git_spec, served, BuiltImages};
use sqlx::PgPool;

#[sqlx::test(migrations = false)]
async fn submodules_are_fetched_at_their_commit_and_a_refused_one_fails_the_build(pool: PgPool) {
    let _images = BuiltImages("withsub");
    let api = Api::start(pool, quick_worker()).await;
    let lib = Repo::new();
    let recorded = lib.commit("main", "from the submodule\n", &dockerfile(""), "Lib");
    let app = Repo::new();
    let work = app.work();
    git(
        &work,
        &[
            "-c",
            "protocol.file.allow=always",
            "submodule",
            "add",
            "--quiet",
            &lib.url(),
            "vendor/lib",
        ],
    );
    // Relative to the repository's own URL, as forges' submodules usually are.
    let lib_folder = lib.dir().file_name().unwrap().to_str().unwrap();
    let relative = format!("../../{lib_folder}/origin.git");
    git(
        &work,
        &[
            "config",
            "-f",
            ".gitmodules",
            "submodule.vendor/lib.url",
            &relative,
        ],
    );
    // The web root is the submodule's folder (empty, the health check would fail).
    let from_lib = dockerfile("").replace("COPY www /www", "COPY vendor/lib/www /www");
    app.commit("main", "the app's own page\n", &from_lib, "With lib");
    // The submodule moves on; the repository still records the first commit.
    lib.commit("main", "a newer lib\n", &dockerfile(""), "Newer lib");

    let id = api.create(git_spec("withsub", &app, "main")).await;
    let built = finished(&api, &id, 1, 120).await;
    assert_eq!(built["state"], "succeeded", "{built:#}");
    let log = api.deployment_log(built["id"].as_str().unwrap()).await;
    assert!(
        log.iter()
            .any(|l| l.contains("Submodule vendor/lib (vendor/lib) at")
                && l.contains(&recorded[..12])),
        "{log:#?}"
    );
    assert_eq!(served(&api, &id).await, "from the submodule\n", "{log:#?}");

    // Submodules Berth may not fetch: a loopback address, a command transport, and a
    // local repository outside BERTH_GIT_LOCAL_ROOT (the tests' temporary folder).
    let gitmodules = std::fs::read_to_string(work.join(".gitmodules")).unwrap()
        + "[submodule \"evil\"]\n\tpath = vendor/evil\n\turl = http://127.0.0.1:1/x.git\n"
        + "[submodule \"helper\"]\n\tpath = vendor/helper\n\turl = ext::sh -c touch% /tmp/berth-pwned-submodule\n"
        + "[submodule \"outside\"]\n\tpath = vendor/outside\n\turl = file:///usr/share\n";
    std::fs::write(work.join(".gitmodules"), gitmodules).unwrap();
    for path in ["vendor/evil", "vendor/helper", "vendor/outside"] {
        std::fs::create_dir_all(work.join(path)).unwrap();
        let link = format!("160000,{recorded},{path}");
        git(&work, &["update-index", "--add", "--cacheinfo", &link]);
    }
    app.commit("main", "the app's own page\n", &from_lib, "Refused subs");
    assert_eq!(api.act(&id, "deploy", None).await.0, 202);
    let failed = finished(&api, &id, 2, 120).await;
    assert_eq!(failed["state"], "failed", "{failed:#}");
    let reason = failed["reason"].as_str().unwrap();
    for named in [
        "submodule evil (at vendor/evil)",
        "submodule helper (at vendor/helper)",
        "submodule outside (at vendor/outside)",
        "BERTH_GIT_LOCAL_ROOT",
    ] {
        assert!(reason.contains(named), "{reason}");
    }
    assert!(!reason.contains("vendor/lib"), "{reason}");
    assert_eq!(api.service(&id).await["live_deployment"], 1);
    assert_eq!(served(&api, &id).await, "from the submodule\n");
    assert!(!std::path::Path::new("/tmp/berth-pwned-submodule").exists());
}
