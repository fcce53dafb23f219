/* Atlas couverture: search box, print button and Leaflet maps.
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

  /* ------------------------------------------------------------ search */
  function norm(s) {
    return String(s).normalize("NFD").replace(/[\u0300-\u036f]/g, "").toLowerCase()
      .replace(/[^a-z0-9]+/g, " ").trim();
  }

  var form = document.getElementById("recherche-form");
  var input = document.getElementById("recherche");
  var list = document.getElementById("recherche-resultats");
  var entries = (window.COUVERTURE_RECHERCHE || []).map(function (e) {
    return {label: e[0], kind: e[1], url: e[2], key: norm(e[0] + " " + e[1])};
  });

  function search(q) {
    var words = norm(q).split(" ").filter(Boolean);
    if (!words.length) return [];
    var out = [];
    for (var i = 0; i < entries.length && out.length < 15; i++) {
      var ok = true;
      for (var w = 0; w < words.length; w++) {
        if (entries[i].key.indexOf(words[w]) < 0) { ok = false; break; }
      }
      if (ok) out.push(entries[i]);
    }
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
