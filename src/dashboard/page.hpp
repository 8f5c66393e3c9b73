#pragma once
// The dashboard's page and script (internal to the dashboard). The page
// loads /chart.js and /app.js from the dashboard itself and nothing else;
// the script polls /api/campaign/NAME and /api/trials?since=SEQ and draws
// with Chart.js (libjs-chart.js). Text from the store is only ever set with
// textContent, never parsed as HTML.
namespace kerntune::dashboard {

inline constexpr const char* kPage = R"html(<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>kerntune dashboard</title>
<style>
:root{--fg:#1d2330;--muted:#5c6575;--line:#d9dee7;--panel:#f6f8fb;--accent:#2563eb;--good:#15803d;--bad:#b91c1c}
*{box-sizing:border-box}body{margin:0;font:14px/1.45 system-ui,"DejaVu Sans",sans-serif;color:var(--fg)}
main{max-width:1200px;margin:0 auto;padding:16px 24px 60px}h1{font-size:22px;margin:0}h2{font-size:16px;margin:22px 0 6px}
.bar{display:flex;gap:12px;align-items:center;flex-wrap:wrap}.muted,.note{color:var(--muted)}.note{font-size:13px}
.cards{display:flex;gap:10px;flex-wrap:wrap;margin:12px 0}.card{flex:1 1 170px;background:var(--panel);border:1px solid var(--line);border-radius:8px;padding:8px 12px}
.card .k{color:var(--muted);font-size:12px;text-transform:uppercase}.card .v{font-size:18px;font-weight:600}
progress{width:100%;height:10px}.grid{display:grid;grid-template-columns:repeat(auto-fit,minmax(520px,1fr));gap:14px}
figure{margin:0;border:1px solid var(--line);border-radius:8px;padding:8px;min-height:320px}figure canvas{width:100%!important;height:300px!important}
figcaption{font-size:13px;font-weight:600}.scroll{max-height:420px;overflow:auto;border:1px solid var(--line);border-radius:8px}
table{border-collapse:collapse;width:100%;font-size:13px}th,td{padding:3px 8px;border-bottom:1px solid var(--line);text-align:left;vertical-align:top}
th{background:var(--panel);position:sticky;top:0}td.n{text-align:right;font-variant-numeric:tabular-nums}
tr.failed td{color:var(--bad)}tr.pick td{background:#ecfdf3}tr[data-seq]{cursor:pointer}tr.selected td{outline:1px solid var(--accent)}
pre{font:12px/1.4 ui-monospace,"DejaVu Sans Mono",monospace;background:var(--panel);padding:8px;border-radius:6px;max-height:300px;overflow:auto;white-space:pre-wrap}
.good{color:var(--good)}.bad{color:var(--bad)}#error{color:var(--bad)}
</style></head>
<body><main>
<header class="bar"><h1>kerntune dashboard</h1>
<label>campaign <select id="campaign"></select></label><span id="state" class="muted"></span><span id="error"></span></header>
<div class="cards">
<div class="card"><div class="k">trials</div><div class="v" id="progress-text">–</div><progress id="progress" max="1" value="0"></progress></div>
<div class="card"><div class="k">ETA</div><div class="v" id="eta">–</div></div>
<div class="card"><div class="k">failed</div><div class="v" id="failed">–</div></div>
<div class="card"><div class="k">recommended</div><div class="v" id="recommended">–</div></div>
<div class="card"><div class="k">vs baseline (95% CI)</div><div class="v" id="interval">–</div></div>
</div>
<p class="note" id="recommendation-notes"></p>
<div class="grid">
<figure><figcaption>Convergence: each trial's median and the best so far</figcaption><canvas id="convergence"></canvas></figure>
<figure><figcaption>Parallel coordinates (each line a trial, darker = better)</figcaption><canvas id="parallel"></canvas></figure>
<figure><figcaption>Parameter importance (share of the GP's first-order effects)</figcaption><canvas id="importance"></canvas><p class="note" id="importance-note"></p></figure>
<figure><figcaption>Pareto front (the recommendation ringed)</figcaption><canvas id="pareto"></canvas><p class="note" id="pareto-note"></p></figure>
</div>
<h2>Trials <span class="muted" id="trial-count"></span></h2>
<div class="scroll"><table id="trial-table"><thead><tr id="trial-head"></tr></thead><tbody></tbody></table></div>
<h2>Trial <span id="detail-seq">–</span></h2>
<div id="trial-detail"><p class="note">Click a trial for its failure, effective values and logs.</p></div>
</main>
<script src="/chart.js"></script><script src="/app.js"></script>
</body></html>
)html";

inline constexpr const char* kScript = R"js('use strict';
(function(){
var state={campaign:'',poll:1000,last:-1,trials:[],info:null,charts:{},columns:null,timer:null};
function $(id){return document.getElementById(id);}
function el(tag,text,cls){var e=document.createElement(tag);if(text!==undefined&&text!==null)e.textContent=String(text);if(cls)e.className=cls;return e;}
function get(url){return fetch(url,{cache:'no-store'}).then(function(r){return r.json().then(function(j){if(!r.ok)throw new Error(j.error||('HTTP '+r.status));return j;});});}
function fmt(x){if(x===null||x===undefined)return '–';if(typeof x!=='number')return String(x);return Math.abs(x)>=1e5||Math.abs(x)<1e-3&&x!==0?x.toExponential(3):String(+x.toPrecision(5));}
function dur(s){if(s===null||s===undefined)return '–';s=Math.round(s);var h=Math.floor(s/3600),m=Math.floor(s%3600/60),r=s%60;return (h?h+'h ':'')+(h||m?m+'m ':'')+r+'s';}
function pct(r){return (r>=1?'+':'')+((r-1)*100).toFixed(1)+'%';}
function chart(id,cfg){if(state.charts[id]){state.charts[id].destroy();}cfg.options=Object.assign({animation:false,responsive:true,maintainAspectRatio:false},cfg.options||{});state.charts[id]=new Chart($(id),cfg);}
function mainMetric(){return state.info?state.info.main.metric:null;}
function better(a,b){return state.info&&state.info.main.direction==='maximize'?a>b:a<b;}

function drawConvergence(){
  var m=mainMetric();if(!m)return;var pts=[],fail=[],best=[],b=null,base=[];
  state.trials.forEach(function(t){
    var v=t.metrics&&t.metrics[m];
    if(t.status==='ok'&&typeof v==='number'){pts.push({x:t.seq,y:v});if(t.kind==='baseline'||t.kind==='rebaseline')base.push({x:t.seq,y:v});
      if(t.kind==='baseline'||t.kind==='proposal'){if(b===null||better(v,b))b=v;best.push({x:t.seq,y:b});}}
    else if(t.status!=='ok')fail.push(t.seq);
  });
  var lo=pts.length?Math.min.apply(null,pts.map(function(p){return p.y;})):0;
  chart('convergence',{type:'scatter',data:{datasets:[
    {label:'trial median',data:pts,backgroundColor:'#2563eb'},
    {label:'best so far',data:best,type:'line',stepped:true,borderColor:'#15803d',pointRadius:0,fill:false},
    {label:'baseline',data:base,backgroundColor:'#d97706',pointRadius:5},
    {label:'failed',data:fail.map(function(s){return {x:s,y:lo};}),pointStyle:'crossRot',borderColor:'#b91c1c',pointRadius:6}]},
    options:{scales:{x:{title:{display:true,text:'trial'}},y:{title:{display:true,text:m}}}}});
}
function drawParallel(){
  var p=state.info&&state.info.parallel;if(!p)return;
  var labels=p.axes.map(function(a){return a.name;}).concat([mainMetric()]);
  var vals=p.rows.map(function(r){return r.value;}),lo=Math.min.apply(null,vals),hi=Math.max.apply(null,vals);
  var pick=state.info.marks.pick;
  var ds=p.rows.map(function(r){
    var q=hi>lo?(r.value-lo)/(hi-lo):0.5;if(state.info.main.direction==='maximize')q=1-q;
    var y=r.axes.concat([q]);var isPick=r.seq===pick;
    return {label:'trial '+r.seq,data:y,borderColor:isPick?'#111':'rgba(37,99,235,'+(0.15+0.75*(1-q)).toFixed(2)+')',borderWidth:isPick?3:1,pointRadius:0,spanGaps:false};
  });
  chart('parallel',{type:'line',data:{labels:labels,datasets:ds},options:{plugins:{legend:{display:false}},scales:{y:{min:0,max:1,ticks:{display:false}}}}});
}
function drawImportance(){
  var imp=state.info&&state.info.importance;if(!imp)return;$('importance-note').textContent=imp.params.length?('from '+imp.points+' successful trials; a model of the data, not a measurement'):('no importance yet: '+imp.note);
  chart('importance',{type:'bar',data:{labels:imp.params.map(function(p){return p.name;}),datasets:[{label:'share',data:imp.params.map(function(p){return p.share;}),backgroundColor:'#2563eb'}]},
    options:{indexAxis:'y',plugins:{legend:{display:false}},scales:{x:{min:0,max:1}}}});
}
function drawPareto(){
  var info=state.info;if(!info)return;var opt=info.objectives.filter(function(o){return o.direction!=='limit';});
  var a=opt.length>1?opt[0].metric:info.main.metric,b=opt.length>1?opt[1].metric:null;
  $('pareto-note').textContent=b?'green: the feasible front; hollow red: breaks a limit; ringed: the recommendation':'one objective: no trade-off; the recommendation against every trial over time';
  var front=new Set(info.marks.front),inf=new Set(info.marks.infeasible),sets={front:[],dom:[],inf:[],pick:[]};
  state.trials.forEach(function(t){
    if(t.status!=='ok'||!t.metrics||typeof t.metrics[a]!=='number')return;var yb=b?t.metrics[b]:t.metrics[a];if(typeof yb!=='number')return;
    var pt=b?{x:t.metrics[a],y:yb}:{x:t.seq,y:yb};
    if(t.seq===info.marks.pick)sets.pick.push(pt);if(inf.has(t.seq))sets.inf.push(pt);else if(front.has(t.seq))sets.front.push(pt);else sets.dom.push(pt);
  });
  chart('pareto',{type:'scatter',data:{datasets:[
    {label:'front',data:sets.front,backgroundColor:'#15803d'},{label:'dominated',data:sets.dom,backgroundColor:'#9aa5b8'},
    {label:'infeasible',data:sets.inf,borderColor:'#b91c1c',backgroundColor:'rgba(0,0,0,0)'},
    {label:'recommended',data:sets.pick,borderColor:'#111',borderWidth:3,pointRadius:9,backgroundColor:'rgba(0,0,0,0)'}]},
    options:{scales:{x:{title:{display:true,text:b?a:'trial'}},y:{title:{display:true,text:b||a}}}}});
}
function columns(){
  if(state.columns||!state.info)return state.columns;var c=state.info.objectives.map(function(o){return o.metric;});
  state.columns=c;var head=$('trial-head');head.textContent='';
  ['seq','kind','status'].concat(c).concat(['seconds','failure / parameters']).forEach(function(h){head.appendChild(el('th',h));});
  return c;
}
function addRow(t){
  var c=columns()||[];var tr=el('tr');tr.dataset.seq=t.seq;tr.className=t.status==='ok'?'ok':'failed';
  var cells=[el('td',t.seq,'n'),el('td',t.kind),el('td',t.status)];
  c.forEach(function(m){cells.push(el('td',t.metrics&&m in t.metrics?fmt(t.metrics[m]):'','n'));});
  cells.push(el('td',fmt(t.seconds),'n'));
  var text=t.status==='ok'?Object.keys(t.params||{}).map(function(k){return k+'='+JSON.stringify(t.params[k]);}).join(', '):((t.failure&&t.failure.stage||'')+': '+(t.failure&&t.failure.reason||''));
  cells.push(el('td',text.slice(0,300)));cells.forEach(function(x){tr.appendChild(x);});
  tr.addEventListener('click',function(){showTrial(t.seq);});
  $('trial-table').tBodies[0].appendChild(tr);
}
function markPick(){var pick=state.info&&state.info.marks.pick;Array.prototype.forEach.call($('trial-table').tBodies[0].rows,function(r){r.classList.toggle('pick',String(pick)===r.dataset.seq);});}
function showTrial(seq){
  get('/api/trial?campaign='+encodeURIComponent(state.campaign)+'&seq='+seq).then(function(t){
    var d=$('trial-detail');d.textContent='';$('detail-seq').textContent=t.seq+' ('+t.kind+', '+t.status+')';
    Array.prototype.forEach.call($('trial-table').tBodies[0].rows,function(r){r.classList.toggle('selected',r.dataset.seq===String(seq));});
    if(t.failure&&t.failure.stage){d.appendChild(el('h3','failure'));d.appendChild(el('p',t.failure.stage+': '+t.failure.reason,'bad'));}
    d.appendChild(el('h3','parameters (proposed → effective)'));var tb=el('table');tb.id='effective';
    Object.keys(t.params||{}).forEach(function(k){var r=el('tr');r.appendChild(el('td',k));r.appendChild(el('td',JSON.stringify(t.params[k])));
      r.appendChild(el('td',t.effective&&k in t.effective?JSON.stringify(t.effective[k]):''));tb.appendChild(r);});
    d.appendChild(tb);
    (t.artifacts||[]).forEach(function(a){d.appendChild(el('h3','log: '+a.name+(a.truncated?' (first 256 KiB)':'')));d.appendChild(el('pre',a.content));});
    if(!(t.artifacts||[]).length)d.appendChild(el('p','no logs stored','note'));
  }).catch(function(e){$('error').textContent=e.message;});
}
function showSummary(){
  var s=state.info.status;$('state').textContent=s.state;
  var done=s.done,budget=s.budget;$('progress-text').textContent=done+(budget?' / '+budget:'')+(s.extra?' (+'+s.extra+' re-measured)':'');
  $('progress').max=budget||Math.max(done,1);$('progress').value=done;
  $('eta').textContent=s.state==='running'?(s.eta_seconds===null?'–':dur(s.eta_seconds)):s.state;
  $('failed').textContent=s.failed;
  var rec=state.info.recommendation,iv=rec&&rec.improvement;
  $('recommended').textContent=rec&&rec.recommendation.found?('trial '+rec.seq+': '+fmt(rec.metrics[state.info.main.metric])):'none yet';
  $('interval').textContent=iv?(pct(iv.ratio)+(iv.ci95&&iv.ci95[0]!==null?' ['+pct(iv.ci95[0])+', '+pct(iv.ci95[1])+']':'')+(iv.confirmed?' confirmed':' unconfirmed')):'–';
  $('interval').className='v '+(iv&&iv.verdict==='significant improvement'?'good':iv&&iv.verdict==='significant regression'?'bad':'');
  $('recommendation-notes').textContent=rec?((rec.recommendation.rule||'')+'. '+(rec.recommendation.notes||[]).join('. ')):(state.info.recommendation_error||'');
}
function poll(){
  if(!state.campaign)return loadCampaigns();
  var c=encodeURIComponent(state.campaign);
  Promise.all([get('/api/campaign/'+c),get('/api/trials?campaign='+c+'&since='+state.last)]).then(function(r){
    $('error').textContent='';state.info=r[0];var fresh=r[1].trials;
    fresh.forEach(function(t){state.trials.push(t);addRow(t);state.last=Math.max(state.last,t.seq);});
    $('trial-count').textContent='('+state.trials.length+')';document.body.dataset.trials=state.trials.length;
    showSummary();markPick();drawConvergence();drawParallel();drawImportance();drawPareto();
    document.body.dataset.ready='1';
  }).catch(function(e){$('error').textContent=e.message;}).then(function(){
    if(!state.info||state.info.status.state==='running'||state.trials.length===0)state.timer=setTimeout(poll,state.poll);
  });
}
function choose(name){state.campaign=name;state.last=-1;state.trials=[];state.info=null;state.columns=null;$('trial-table').tBodies[0].textContent='';
  if(state.timer)clearTimeout(state.timer);poll();}
function loadCampaigns(){
  return get('/api/campaigns').then(function(list){
    var sel=$('campaign');sel.textContent='';list.forEach(function(c){var o=el('option',c.name+' ('+c.status+')');o.value=c.name;sel.appendChild(o);});
    if(!list.length){$('error').textContent='the store holds no campaign yet';state.timer=setTimeout(loadCampaigns,state.poll);return;}
    var want=state.campaign||list[list.length-1].name;sel.value=want;choose(want);
  });
}
$('campaign').addEventListener('change',function(e){choose(e.target.value);});
get('/api/config').then(function(c){state.poll=c.poll_ms;state.campaign=c.campaign;return loadCampaigns();}).catch(function(e){$('error').textContent=e.message;});
})();
)js";

}  // namespace kerntune::dashboard
