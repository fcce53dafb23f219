/* Atlas couverture: search box, print button, sortable and filterable tables, Leaflet maps.
 * Every value taken from the data is inserted with textContent (never innerHTML),
 * so names such as "<script>" stay text. No request leaves the machine:
 * the data come from data/*.js files loaded by the page. */
(function () {
  "use strict";

  var root = document.body.getAttribute("data-root") || "";

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = String(text);
    return e;
  }

  function link(href, text, cls) {
    var a = el("a", cls, text);
    a.setAttribute("href", root + href);
    return a;
  }

  /* ------------------------------------------------------------ print */
  var printButtons = document.querySelectorAll("[data-imprimer]");
  for (var b = 0; b < printButtons.length; b++) {
    printButtons[b].hidden = false;
    printButtons[b].addEventListener("click", function () { window.print(); });
  }

  /* ------------------------------------------------------------ menu (collapsed on a phone) */
  var menuButton = document.querySelector(".menu-bouton");
  var menuNav = document.querySelector(".menu");
  if (menuButton && menuNav) {
    menuButton.hidden = false;
    menuNav.classList.add("menu-repliable");
    menuButton.addEventListener("click", function () {
      var open = menuButton.getAttribute("aria-expanded") !== "true";
      menuButton.setAttribute("aria-expanded", open ? "true" : "false");
      menuNav.classList.toggle("menu-ouvert", open);
    });
  }

  /* ------------------------------------------------------------ search */
  function norm(s) {
    return String(s).normalize("NFD").replace(/[\u0300-\u036f]/g, "").toLowerCase()
      .replace(/[^a-z0-9]+/g, " ").trim();
  }

  var form = document.getElementById("recherche-form");
  var input = document.getElementById("recherche");
  var list = document.getElementById("recherche-resultats");
  var entries = (window.COUVERTURE_RECHERCHE || []).map(function (e) {
    return {label: e[0], kind: e[1], url: e[2], key: " " + norm(e[0] + " " + e[1] + " " + (e[3] || "")) + " ",
            name: " " + norm(e[0])};
  });

  /* What people type for what names say (after norm: no accent, no case, hyphens as spaces). */
  var ABREVIATIONS = {
    st: ["saint"], ste: ["sainte"], sts: ["saints"], stes: ["saintes"],
    cs: ["centre social", "centres sociaux"], evs: ["espace de vie sociale", "espaces de vie sociale"],
    cc: ["communaute de communes"], ca: ["communaute d agglomeration"], mt: ["mont"], nd: ["notre dame"],
    arr: ["arrondissement"]
  };

  /* A query word matches a word of the entry that starts with it (or with what it abbreviates);
     a word of four letters or more may also match inside a word. */
  function matches(key, word) {
    var alternatives = [word].concat(ABREVIATIONS[word] || []);
    for (var a = 0; a < alternatives.length; a++) {
      if (key.indexOf(" " + alternatives[a]) >= 0) return true;
    }
    return word.length >= 4 && key.indexOf(word) >= 0;
  }

  function begins(name, word) {
    var alternatives = [word].concat(ABREVIATIONS[word] || []);
    for (var a = 0; a < alternatives.length; a++) {
      if (name.indexOf(" " + alternatives[a]) === 0) return true;
    }
    return false;
  }

  function search(q) {
    var words = norm(q).split(" ").filter(Boolean);
    if (!words.length) return [];
    var found = [];
    for (var i = 0; i < entries.length; i++) {
      var ok = true;
      for (var w = 0; w < words.length; w++) {
        if (!matches(entries[i].key, words[w])) { ok = false; break; }
      }
      /* names that begin with the first word (or what it abbreviates) come first, then the order of the index */
      if (ok) found.push({e: entries[i], rang: begins(entries[i].name, words[0]) ? 0 : 1, i: i});
    }
    found.sort(function (a, b) { return a.rang - b.rang || a.i - b.i; });
    var out = found.slice(0, 15).map(function (f) { return f.e; });
    out.total = found.length;
    return out;
  }

  function showResults() {
    while (list.firstChild) list.removeChild(list.firstChild);
    var q = input.value;
    if (!norm(q)) return;
    var found = search(q);
    if (!found.length) {
      list.appendChild(el("li", "aucun", "Aucun résultat pour « " + q + " »"));
      return;
    }
    found.forEach(function (e) {
      var li = el("li");
      var a = link(e.url, e.label);
      a.appendChild(el("span", "genre", e.kind));
      li.appendChild(a);
      list.appendChild(li);
    });
    if (found.total > found.length) {
      list.appendChild(el("li", "aucun", formatEntier(found.total - found.length) + " autres résultats : précisez la recherche"));
    }
  }

  if (form && input && list) {
    input.addEventListener("input", showResults);
    form.addEventListener("submit", function (ev) {
      ev.preventDefault();
      var first = list.querySelector("a");
      if (first) window.location.href = first.getAttribute("href");
    });
    form.addEventListener("keydown", function (ev) {
      var links = Array.prototype.slice.call(list.querySelectorAll("a"));
      var i = links.indexOf(document.activeElement);
      if (ev.key === "ArrowDown" && links.length) {
        ev.preventDefault();
        links[Math.min(i + 1, links.length - 1)].focus();
      } else if (ev.key === "ArrowUp" && links.length) {
        ev.preventDefault();
        if (i <= 0) input.focus(); else links[i - 1].focus();
      } else if (ev.key === "Escape") {
        input.value = "";
        showResults();
        input.focus();
      }
    });
  }

  /* ------------------------------------------------------------ tables: sort and filter */
  /* Numbers are shown in French: U+202F (or U+00A0) between thousands, decimal comma,
     U+2212 minus, units after ("km", "%", "hab."). The key is the first number of the cell,
     or its data-tri attribute; cells without a number ("n.d.", empty) go last either way. */
  function nombreFr(text) {
    var t = String(text).replace(/(\d)[\u202f\u00a0\u2009 ](?=\d{3}(?!\d))/g, "$1");
    var m = t.match(/[+\-\u2212]?\d+(?:,\d+)?/);
    if (!m) return null;
    var v = parseFloat(m[0].replace("\u2212", "-").replace(",", "."));
    return isFinite(v) ? v : null;
  }

  function formatEntier(n) {
    return String(n).replace(/\B(?=(\d{3})+(?!\d))/g, "\u202f");
  }

  var collator = window.Intl && Intl.Collator ? new Intl.Collator("fr", {sensitivity: "base", numeric: true}) : null;
  function compareTexte(a, b) {
    return collator ? collator.compare(a, b) : (a < b ? -1 : a > b ? 1 : 0);
  }

  function cleTri(cell, numeric) {
    if (!cell) return null;
    var raw = cell.getAttribute("data-tri");
    var text = raw !== null ? raw : cell.textContent.replace(/\s+/g, " ").trim();
    if (numeric) return nombreFr(text);
    return text === "" || text === "n.d." ? null : text;
  }

  var SVG = "http://www.w3.org/2000/svg";
  function fleche() {
    var svg = document.createElementNS(SVG, "svg");
    svg.setAttribute("class", "tri-fleche");
    svg.setAttribute("aria-hidden", "true");
    svg.setAttribute("focusable", "false");
    svg.setAttribute("viewBox", "0 0 10 16");
    svg.setAttribute("width", "10");
    svg.setAttribute("height", "16");
    [["tri-haut", "M5 1l4 5H1z"], ["tri-bas", "M5 15l4-5H1z"]].forEach(function (d) {
      var path = document.createElementNS(SVG, "path");
      path.setAttribute("class", d[0]);
      path.setAttribute("d", d[1]);
      svg.appendChild(path);
    });
    return svg;
  }

  function trier(table, th, numeric, sens) {
    var body = table.tBodies[0];
    if (!body) return;
    var index = th.cellIndex;
    var rows = Array.prototype.slice.call(body.rows);
    var keyed = rows.map(function (row, i) { return {row: row, i: i, cle: cleTri(row.cells[index], numeric)}; });
    keyed.sort(function (a, b) {
      if (a.cle === null || b.cle === null) {
        if (a.cle === null && b.cle === null) return a.i - b.i;
        return a.cle === null ? 1 : -1;  /* missing values last, whatever the direction */
      }
      var c = numeric ? a.cle - b.cle : compareTexte(a.cle, b.cle);
      return (sens === "ascending" ? c : -c) || a.i - b.i;
    });
    var frag = document.createDocumentFragment();
    keyed.forEach(function (k) { frag.appendChild(k.row); });
    body.appendChild(frag);
    var heads = table.tHead ? table.tHead.querySelectorAll("th") : [];
    for (var h = 0; h < heads.length; h++) {
      if (heads[h] !== th) heads[h].removeAttribute("aria-sort");
    }
    th.setAttribute("aria-sort", sens);
  }

  var compteurTri = 0;
  var triables = document.querySelectorAll("table.triable");
  Array.prototype.forEach.call(triables, function (table) {
    if (!table.tHead || !table.tBodies.length || table.tBodies[0].rows.length < 2) return;
    var heads = table.tHead.rows[0].cells;
    Array.prototype.forEach.call(heads, function (th) {
      var numeric = th.classList.contains("num");
      /* The header keeps its text as text (a printed table repeats it on every page); the button
         lies under it, covers the whole cell and is named by that text (aria-labelledby). */
      var label = el("span", "tri-libelle");
      label.id = "tri-" + (++compteurTri);
      while (th.firstChild) label.appendChild(th.firstChild);
      th.appendChild(label);
      th.classList.add("a-tri");
      var button = el("button", "tri");
      button.type = "button";
      button.setAttribute("aria-labelledby", label.id);
      button.appendChild(fleche());
      th.appendChild(button);
      button.addEventListener("click", function () {
        /* first press: ascending; then toggles */
        trier(table, th, numeric, th.getAttribute("aria-sort") === "ascending" ? "descending" : "ascending");
      });
    });
    if (table.caption) {
      table.caption.appendChild(el("span", "visuellement-cache",
        " (les en-têtes de colonne sont des boutons : tri croissant, puis décroissant)"));
    }
  });

  function phraseCompte(n, total) {
    var s = n > 1 ? "s" : "";
    return formatEntier(n) + " ligne" + s + " affichée" + s + " sur " + formatEntier(total);
  }

  var filtres = document.querySelectorAll("[data-filtre]");
  Array.prototype.forEach.call(filtres, function (box) {
    var table = document.getElementById(box.getAttribute("data-filtre"));
    var field = box.querySelector("input");
    var count = box.querySelector(".filtre-compte");
    if (!table || !table.tBodies.length || !field || !count) return;
    var rows = Array.prototype.slice.call(table.tBodies[0].rows);
    rows.forEach(function (row) { row.couvertureCle = " " + norm(row.textContent) + " "; });
    function appliquer() {
      var words = norm(field.value).split(" ").filter(Boolean);
      var shown = 0;
      rows.forEach(function (row) {
        var ok = true;
        for (var w = 0; w < words.length; w++) {
          if (row.couvertureCle.indexOf(words[w]) < 0) { ok = false; break; }
        }
        row.hidden = !ok;
        if (ok) shown++;
      });
      box.classList.toggle("filtre-actif", words.length > 0);
      var text = phraseCompte(shown, rows.length);
      if (count.textContent !== text) count.textContent = text;
    }
    field.addEventListener("input", appliquer);
    field.addEventListener("search", appliquer);  /* Escape or the clear button of the search field */
    box.hidden = false;
    if (field.value) appliquer();  /* value kept by the browser on "back" */
  });

  /* ------------------------------------------------------------ maps */
  var cfgNode = document.getElementById("carte-config");
  if (!cfgNode || !window.L || !window.COUVERTURE_COMMUNES) return;
  var cfg = JSON.parse(cfgNode.textContent);
  var map = L.map("carte", {zoomSnap: 0.25, zoomDelta: 0.5, wheelPxPerZoomLevel: 120});
  map.attributionControl.setPrefix("Leaflet");
  if (cfg.tuiles) {
    L.tileLayer(cfg.tuiles.url, {maxZoom: 18}).addTo(map);
    map.attributionControl.addAttribution(cfg.tuiles.attribution.replace(/</g, "&lt;"));
  }

  var communes = couvertureTopo(window.COUVERTURE_COMMUNES, "unites");
  var highlight = null;
  if (cfg.surligner) {
    highlight = {};
    cfg.surligner.forEach(function (c) { highlight[c] = true; });
  }
  var ckey = "c_" + cfg.indicateur, vkey = "v_" + cfg.indicateur;

  function unitBox(p) {
    var box = el("div");
    box.appendChild(el("span", "popup-titre", p.nom));
    if (cfg.indicateur && p[vkey] !== undefined) box.appendChild(el("span", null, cfg.titre + " : " + p[vkey]));
    return box;
  }

  var byCode = {};
  var units = L.geoJSON(communes, {
    style: function (f) {
      var p = f.properties, k = p[ckey];
      var on = !highlight || highlight[p.code];
      return {
        fillColor: (k !== undefined && k >= 0 && k < cfg.couleurs.length) ? cfg.couleurs[k] : cfg.manquant,
        fillOpacity: on ? 0.85 : 0.3, color: "#ffffff", weight: 0.7, opacity: 1
      };
    },
    onEachFeature: function (f, layer) {
      var p = f.properties;
      byCode[p.code] = layer;
      layer.bindTooltip(function () { return unitBox(p); }, {sticky: true});
      layer.bindPopup(function () {
        var box = unitBox(p);
        box.appendChild(el("br"));
        box.appendChild(link("communes/" + p.s + ".html", "Ouvrir la fiche de la commune"));
        return box;
      });
    }
  }).addTo(map);

  if (highlight) {
    var outline = communes.features.filter(function (f) { return highlight[f.properties.code]; });
    L.geoJSON({type: "FeatureCollection", features: outline},
      {style: {fill: false, color: "#1f2933", weight: 2.2, opacity: 1}, interactive: false}).addTo(map);
  }

  var overlays = {};
  if (cfg.zones && window.COUVERTURE_ZONES) {
    var zl = L.geoJSON(window.COUVERTURE_ZONES, {
      style: {fill: false, color: "#1f2933", weight: 1.2, dashArray: "4 3", opacity: 0.9},
      onEachFeature: function (f, layer) {
        layer.bindTooltip(function () { return el("span", null, "ZVS : " + f.properties.nom); }, {sticky: true});
      }
    });
    overlays["Zones de vie sociale"] = zl;
  }

  var zoneLayer = null;
  if (cfg.zone) {
    zoneLayer = L.geoJSON(cfg.zone, {style: {fill: false, color: "#1f2933", weight: 3, dashArray: "6 4", opacity: 1},
      interactive: false}).addTo(map);
  }

  if (cfg.blanches && cfg.blanches.features.length) {
    /* outline only: the units below keep their class colour (zones blanches are red) */
    var bs = cfg.style_blanches || {couleur: "#67001f", epaisseur: 2.5};
    var bl = L.geoJSON(cfg.blanches, {
      style: {color: bs.couleur, weight: bs.epaisseur, fillColor: bs.couleur, fillOpacity: 0, opacity: 1},
      onEachFeature: function (f, layer) {
        layer.bindTooltip(function () {
          return el("span", null, "Zone blanche n° " + f.properties.rang + " : " + f.properties.population);
        }, {sticky: true});
      }
    }).addTo(map);
    overlays["Zones blanches"] = bl;
  }

  var structures = window.COUVERTURE_STRUCTURES || [];
  if (structures.length) {
    var sl = L.featureGroup();
    var focus = null;
    structures.forEach(function (s) {
      var style = cfg.styles[s.type] || cfg.styles.autre;
      var mine = cfg.structure !== null && s.id === cfg.structure;
      var m = L.circleMarker([s.y, s.x], {
        radius: mine ? 10 : (s.type === "CS" ? 5.5 : 4.5),
        fillColor: style.couleur, fillOpacity: 1, color: mine ? "#1f2933" : "#ffffff", weight: mine ? 3 : 1.2
      });
      m.bindTooltip(function () { return el("span", null, s.nom); });
      m.bindPopup(function () {
        var box = el("div");
        box.appendChild(el("span", "popup-titre", s.nom));
        box.appendChild(el("span", null, style.libelle + (s.c ? " – " + s.c : "")));
        box.appendChild(el("br"));
        box.appendChild(link("structures/" + s.s + ".html", "Ouvrir la fiche de la structure"));
        return box;
      });
      m.addTo(sl);
      if (mine) focus = m;
    });
    sl.addTo(map);
    if (focus) focus.bringToFront();
    overlays["Structures"] = sl;
  }

  if (cfg.sites && cfg.sites.length) {
    var ss = cfg.style_sites || {couleur: "#1f2933", texte: "#ffffff"};
    var circles = L.featureGroup(), markers = L.featureGroup();
    cfg.sites.forEach(function (s) {
      if (cfg.rayon_sites) {
        L.circle([s.y, s.x], {radius: cfg.rayon_sites, color: ss.couleur, weight: 1.5, dashArray: "5 4", fill: false,
          interactive: false}).addTo(circles);
      }
      var label = "Site proposé n° " + s.rang + " : " + s.nom;
      var icon = L.divIcon({className: "site-propose", html: el("span", null, s.rang), iconSize: [24, 24], iconAnchor: [12, 12]});
      var m = L.marker([s.y, s.x], {icon: icon, title: label, keyboard: true, zIndexOffset: 1000});
      m.bindTooltip(function () { return el("span", null, label); });
      m.bindPopup(function () {
        var box = el("div");
        box.appendChild(el("span", "popup-titre", label));
        box.appendChild(el("span", null, "Population nouvellement à portée : " + s.ajout));
        if (s.s) {
          box.appendChild(el("br"));
          box.appendChild(link("communes/" + s.s + ".html", "Ouvrir la fiche de la commune"));
        }
        return box;
      });
      m.addTo(markers);
    });
    circles.addTo(map);
    markers.addTo(map);
    overlays["Sites proposés"] = markers;
    if (cfg.rayon_sites) overlays["Rayon autour des sites"] = circles;
  }

  if (Object.keys(overlays).length) {
    L.control.layers(null, overlays, {collapsed: false}).addTo(map);
  }
  L.control.scale({imperial: false}).addTo(map);

  var bounds = null;
  if (cfg.cadrer && cfg.cadrer.length) {
    cfg.cadrer.forEach(function (c) {
      if (byCode[c]) {
        var b2 = byCode[c].getBounds();
        bounds = bounds ? bounds.extend(b2) : L.latLngBounds(b2.getSouthWest(), b2.getNorthEast());
      }
    });
  }
  if (zoneLayer) {
    var zb = zoneLayer.getBounds();
    if (zb.isValid()) bounds = bounds ? bounds.extend(zb) : zb;
  }
  if (!bounds || !bounds.isValid()) bounds = units.getBounds();
  if (bounds.isValid()) map.fitBounds(bounds, {padding: [12, 12], maxZoom: 13});
  else map.setView([46.5, 2.5], 5);
})();
