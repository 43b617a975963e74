/// The console's one style sheet and one script, compiled into the binary (no CDN, works offline).
enum Assets {
    static let css = """
        :root{--fg:#1b1f24;--muted:#57606a;--bg:#fff;--panel:#f6f8fa;--line:#d0d7de;--accent:#0b5cad;
        --ok:#1a7f37;--warn:#9a6700;--bad:#cf222e;--info:#0969da}
        *{box-sizing:border-box}
        body{margin:0;font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:var(--fg);background:var(--bg)}
        a{color:var(--accent)}
        a:focus,button:focus,input:focus,select:focus,textarea:focus{outline:3px solid #f0b429;outline-offset:1px}
        header{background:#0d2538;color:#fff;padding:.5rem 1rem;display:flex;flex-wrap:wrap;gap:1rem;align-items:center}
        header a{color:#fff;text-decoration:none;padding:.25rem .5rem;border-radius:4px}
        header a[aria-current=page]{background:#24506e}
        header .brand{font-weight:700;margin-right:1rem}
        header form{margin-left:auto}
        main{padding:1rem;max-width:1280px;margin:auto}
        h1{font-size:1.4rem;margin:.2rem 0 1rem} h2{font-size:1.1rem;margin:1.5rem 0 .5rem}
        .table-wrap{overflow-x:auto}
        table{border-collapse:collapse;width:100%;font-size:.9rem}
        th,td{border-bottom:1px solid var(--line);padding:.35rem .5rem;text-align:left;vertical-align:top}
        th{background:var(--panel);white-space:nowrap} td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}
        .badge{white-space:nowrap;display:inline-block;padding:.05rem .45rem;border-radius:999px;font-size:.8rem;font-weight:600;border:1px solid}
        .s-completed,.h-healthy{color:var(--ok);border-color:var(--ok)}
        .s-completed_with_errors,.h-degraded,.s-parked,.s-open{color:var(--warn);border-color:var(--warn)}
        .s-failed,.s-timed_out,.s-abandoned,.h-failing{color:var(--bad);border-color:var(--bad)}
        .s-running{color:var(--info);border-color:var(--info)}
        .s-cancelled,.h-disabled,.s-skipped,.s-replayed,.s-resolved{color:var(--muted);border-color:var(--muted)}
        button,.button{font:inherit;padding:.3rem .7rem;border:1px solid var(--accent);background:var(--accent);color:#fff;
        border-radius:4px;cursor:pointer;text-decoration:none;display:inline-block}
        button.secondary{background:#fff;color:var(--accent)} button.danger{background:var(--bad);border-color:var(--bad)}
        form.inline{display:inline}
        .actions{display:flex;flex-wrap:wrap;gap:.35rem;align-items:center}
        label{font-weight:600;font-size:.85rem;display:block}
        input,select,textarea{font:inherit;padding:.25rem .4rem;border:1px solid var(--muted);border-radius:4px;max-width:100%}
        .filters{display:flex;flex-wrap:wrap;gap:.75rem;align-items:flex-end;margin-bottom:.75rem}
        .cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(150px,1fr));gap:.5rem;margin:.5rem 0}
        .card{background:var(--panel);border:1px solid var(--line);border-radius:6px;padding:.5rem .7rem}
        .card .n{font-size:1.3rem;font-weight:700;font-variant-numeric:tabular-nums}
        .card .k{color:var(--muted);font-size:.8rem}
        .progress{min-width:140px}
        .progress progress{width:100%;height:.8rem;accent-color:var(--info)}
        .progress .text{font-size:.8rem;color:var(--muted)}
        .notice{padding:.5rem .75rem;border-radius:4px;background:#ddf4ff;border:1px solid var(--info);margin-bottom:1rem}
        .error{padding:.5rem .75rem;border-radius:4px;background:#ffebe9;border:1px solid var(--bad);margin-bottom:1rem}
        pre,code{font-family:ui-monospace,SFMono-Regular,Menlo,monospace;font-size:.85rem}
        pre{background:var(--panel);padding:.5rem;overflow-x:auto;white-space:pre-wrap;word-break:break-all}
        svg text{font:12px system-ui,sans-serif}
        .muted{color:var(--muted)} .graph{overflow-x:auto;border:1px solid var(--line);border-radius:6px}
        dd{margin:0;font-weight:600;word-break:break-word} td time{white-space:nowrap}
        details{margin:.25rem 0} svg.chart{max-width:600px}
        @media (max-width:700px){main{padding:.5rem} th,td{padding:.25rem} .hide-narrow{display:none}}
        """

    /// Live progress: every element with `data-live` (a running run's id) is refreshed from `/live` once a
    /// second; when a run ends, the page reloads to show its final record.
    static let js = """
        (function(){
          function els(){return Array.prototype.slice.call(document.querySelectorAll('[data-live]'));}
          function tick(){
            var list=els(); if(!list.length) return;
            var ids=list.map(function(e){return e.getAttribute('data-live');});
            fetch('/live?ids='+encodeURIComponent(ids.join(',')),{credentials:'same-origin'})
              .then(function(r){return r.json();}).then(function(runs){
                var done=false;
                runs.forEach(function(r){
                  list.filter(function(e){return e.getAttribute('data-live')===r.id;}).forEach(function(e){
                    var bar=e.querySelector('progress'), text=e.querySelector('.text');
                    if(bar){bar.value=r.percent;}
                    if(text){text.textContent=r.text;}
                    e.setAttribute('data-percent',String(r.percent));
                    if(r.status!=='running'){done=true;e.setAttribute('data-status',r.status);}
                  });
                });
                if(done){setTimeout(function(){location.reload();},300);} else {setTimeout(tick,1000);}
              }).catch(function(){setTimeout(tick,2000);});
          }
          if(document.readyState!=='loading'){tick();} else {document.addEventListener('DOMContentLoaded',tick);}
        })();
        """
}
