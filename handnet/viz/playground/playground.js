// handnet playground: draw a digit, run the embedded networks on it, light them up.
// The forward pass below mirrors handnet/nn/forward.py and handnet/nn/activations.py; the browser
// tests check it against them to 1e-5 on the page's own input.
"use strict";
(function () {
  const DATA = JSON.parse(document.getElementById("playground-data").textContent);
  const SIDE = 280;           // the drawing canvas's own pixels
  const PEN = 20;             // pen width on it: about 2 pixels of a 28x28 digit, like MNIST's strokes
  const TOP_K = 3;            // strongest incoming weights drawn per neuron
  const POSITIVE = DATA.palette.positive, NEGATIVE = DATA.palette.negative;

  // ---- arrays ---------------------------------------------------------------------------------
  function decode(x) {
    if (x === null || x === undefined) return null;
    if (Array.isArray(x)) return Float64Array.from(x.flat(Infinity));
    const bin = atob(x.base64);
    const bytes = new Uint8Array(bin.length);
    for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
    if (x.dtype === "uint8") return bytes;
    const view = new DataView(bytes.buffer);
    const size = x.dtype === "float64" ? 8 : 4;
    const out = new Float64Array(bytes.length / size);
    for (let i = 0; i < out.length; i++) {
      out[i] = size === 8 ? view.getFloat64(i * size, true) : view.getFloat32(i * size, true);
    }
    return out;
  }

  function decodePixels(x) {  // uint8 images, base64 or lists
    if (x === null || x === undefined) return null;
    if (Array.isArray(x)) return Uint8Array.from(x.flat(Infinity));
    return decode(x);
  }

  // ---- the forward pass (handnet/nn/forward.py) -----------------------------------------------
  function sigmoid(z) { const e = Math.exp(-Math.abs(z)); const d = 1 + e; return z >= 0 ? 1 / d : e / d; }
  const ACTIVATIONS = {
    sigmoid: (z) => z.map(sigmoid),
    relu: (z) => z.map((v) => Math.max(v, 0)),
    softmax: (z) => {
      let m = -Infinity; for (const v of z) m = Math.max(m, v);
      const e = z.map((v) => Math.exp(v - m)); let s = 0; for (const v of e) s += v;
      return e.map((v) => v / s);
    },
  };

  function forward(net, x) {
    const acts = [x];
    let a = x;
    for (const layer of net.layers) {
      const z = new Float64Array(layer.nOut);
      const W = layer.W, n = layer.nIn;
      for (let j = 0; j < layer.nOut; j++) {
        let s = 0; const row = j * n;
        for (let i = 0; i < n; i++) s += a[i] * W[row + i];
        z[j] = s + layer.b[j];
      }
      a = ACTIVATIONS[layer.activation](z);
      acts.push(a);
    }
    return acts;
  }

  // ---- networks ------------------------------------------------------------------------------
  const pool = {
    labels: DATA.pool.labels, indices: DATA.pool.indices, n: DATA.pool.shape[0], size: DATA.pool.shape[1],
    pixels: decodePixels(DATA.pool.images), name: DATA.pool.name,
  };
  // what an output neuron answers: its digit when it stands for one (by name or a spec's label = N), else its name
  function answerText(net, j) {
    const answer = net.answers[j];
    return answer === null || answer === undefined ? net.layers[net.layers.length - 1].units[j] : String(answer);
  }
  function poolImage(place) { return pool.pixels.subarray(place * pool.size, (place + 1) * pool.size); }

  function prepare(payload, index) {
    const net = {
      index, label: payload.label, source: payload.source, sha256: payload.sha256, sizes: payload.sizes,
      rows: payload.input_shape[0], cols: payload.input_shape[1], notes: payload.notes || {},
      provenance: payload.provenance || {}, nParameters: payload.n_parameters,
      layers: payload.layers.map((l, li) => {
        const W = decode(l.weights), b = decode(l.biases);
        return { name: l.name, activation: l.activation, units: l.units, W, b, nOut: b.length, nIn: W.length / b.length, li };
      }),
      answers: payload.answers || [],
      maximizers: payload.maximizers, topDigits: payload.top_digits, acts: null,
    };
    // each neuron's TOP_K strongest incoming weights, scaled by the layer's largest |w|
    net.lines = net.layers.map((layer) => {
      let scale = 0; for (const w of layer.W) scale = Math.max(scale, Math.abs(w));
      scale = scale || 1;
      const out = [];
      for (let j = 0; j < layer.nOut; j++) {
        const row = Array.from(layer.W.subarray(j * layer.nIn, (j + 1) * layer.nIn));
        const order = row.map((w, i) => i).sort((p, q) => Math.abs(row[q]) - Math.abs(row[p]) || p - q);
        for (const i of order.slice(0, TOP_K)) out.push({ j, i, w: row[i], strength: Math.abs(row[i]) / scale });
      }
      return out;
    });
    if (net.maximizers) net.maximizers = net.maximizers.map((m) => ({ ...m, pixels: decodePixels(m.images) }));
    return net;
  }

  let nets = DATA.networks.map(prepare);
  let version = DATA.version;

  // ---- drawing -------------------------------------------------------------------------------
  const canvas = document.getElementById("canvas");
  const ctx = canvas.getContext("2d", { willReadFrequently: true });
  let items = [];           // what is on the canvas: {kind: "digit", place} or {kind: "stroke", points}
  let drawing = null;

  function digitCanvas(pixels, rows, cols, colour) {
    const c = document.createElement("canvas");
    c.width = cols; c.height = rows;
    const g = c.getContext("2d"), img = g.createImageData(cols, rows);
    for (let k = 0; k < rows * cols; k++) {
      const [r, gg, b] = colour ? colour(pixels[k], k) : [pixels[k], pixels[k], pixels[k]];
      img.data[4 * k] = r; img.data[4 * k + 1] = gg; img.data[4 * k + 2] = b; img.data[4 * k + 3] = 255;
    }
    g.putImageData(img, 0, 0);
    return c;
  }

  function strokePath(points) {
    ctx.beginPath();
    ctx.moveTo(points[0][0], points[0][1]);
    if (points.length === 1) ctx.lineTo(points[0][0] + 0.01, points[0][1]);
    for (let k = 1; k < points.length; k++) ctx.lineTo(points[k][0], points[k][1]);
    ctx.stroke();
  }

  function setPen() {
    ctx.strokeStyle = "#fff"; ctx.lineWidth = PEN; ctx.lineCap = "round"; ctx.lineJoin = "round";
  }

  function repaint() {
    ctx.fillStyle = "#000"; ctx.fillRect(0, 0, SIDE, SIDE);
    setPen();
    for (const item of items) {
      if (item.kind === "digit") {
        ctx.imageSmoothingEnabled = true;
        ctx.drawImage(digitCanvas(poolImage(item.place), 28, 28), 0, 0, SIDE, SIDE);
      } else {
        strokePath(item.points);
      }
    }
  }

  function pointerXY(event) {
    const rect = canvas.getBoundingClientRect();
    return [(event.clientX - rect.left) * SIDE / rect.width, (event.clientY - rect.top) * SIDE / rect.height];
  }

  canvas.addEventListener("pointerdown", (event) => {
    event.preventDefault();
    try { canvas.setPointerCapture(event.pointerId); } catch (e) { /* a synthetic pointer has nothing to capture */ }
    drawing = { kind: "stroke", points: [pointerXY(event)] };
    items.push(drawing);
    repaint();
    setSource("Your drawing.");
    update();
  });
  canvas.addEventListener("pointermove", (event) => {
    if (!drawing) return;
    event.preventDefault();
    const events = event.getCoalescedEvents ? event.getCoalescedEvents() : [event];
    drawing.points.push(...(events.length ? events : [event]).map(pointerXY));
    // the whole drawing again, not just the new segment: overlapping anti-aliased segments would
    // make the ink brighter than the same stroke drawn at once (after an undo, say)
    repaint();
    update();
  });
  function endStroke() { drawing = null; }
  canvas.addEventListener("pointerup", endStroke);
  canvas.addEventListener("pointercancel", endStroke);

  document.getElementById("clear").addEventListener("click", () => {
    items = []; repaint(); setSource("Cleared: draw a digit."); update();
  });
  document.getElementById("undo").addEventListener("click", () => {
    items.pop(); repaint(); update();
  });
  const starters = DATA.starters;
  let nextStarter = 0;
  document.getElementById("test-digit").addEventListener("click", () => {
    if (!starters.length) return;
    loadDigit(starters[nextStarter % starters.length]);
    nextStarter += 1;
  });

  function loadDigit(place) {
    items = [{ kind: "digit", place }];
    repaint();
    setSource(`Test digit #${pool.indices[place]} of ${pool.name}, labelled ${pool.labels[place]}. Draw on it to change it.`);
    update();
  }

  function setSource(text) { document.getElementById("digit-source").textContent = text; }

  // ---- the input the network sees: MNIST's recipe (handnet/data/images.py) -----------------------
  const greyBuffer = new Float32Array(SIDE * SIDE);  // reused: fewer garbage collections while drawing
  function ink() {
    const rgba = ctx.getImageData(0, 0, SIDE, SIDE).data;
    const out = greyBuffer;
    for (let k = 0; k < out.length; k++) out[k] = rgba[4 * k] / 255;
    return out;
  }

  // average of src (length n) over output cells of width n / m: area resampling along one axis
  function resampleAxis(src, rows, cols, outLen, alongRows) {
    const n = alongRows ? rows : cols, scale = n / outLen;
    const outRows = alongRows ? outLen : rows, outCols = alongRows ? cols : outLen;
    const out = new Float64Array(outRows * outCols);
    for (let o = 0; o < outLen; o++) {
      const start = o * scale, end = (o + 1) * scale;
      for (let s = Math.floor(start); s < Math.min(Math.ceil(end), n); s++) {
        const weight = (Math.min(end, s + 1) - Math.max(start, s)) / scale;
        if (weight <= 0) continue;
        if (alongRows) {
          for (let c = 0; c < cols; c++) out[o * cols + c] += weight * src[s * cols + c];
        } else {
          for (let r = 0; r < rows; r++) out[r * outLen + o] += weight * src[r * cols + s];
        }
      }
    }
    return out;
  }

  function mnistInput(grey, rows, cols) {
    const x = new Float64Array(rows * cols);
    let top = SIDE, bottom = -1, left = SIDE, right = -1;
    for (let r = 0; r < SIDE; r++) {
      for (let c = 0; c < SIDE; c++) {
        if (grey[r * SIDE + c] > 0.1) {
          if (r < top) top = r; if (r > bottom) bottom = r; if (c < left) left = c; if (c > right) right = c;
        }
      }
    }
    if (bottom < 0) return { x, blank: true };
    const side = Math.max(bottom - top + 1, right - left + 1);
    const box = Math.round(20 * Math.min(rows, cols) / 28);
    const margin = Math.ceil(side / box);
    top = Math.max(top - margin, 0); left = Math.max(left - margin, 0);
    bottom = Math.min(bottom + margin, SIDE - 1); right = Math.min(right + margin, SIDE - 1);
    const h = bottom - top + 1, w = right - left + 1;
    const crop = new Float64Array(h * w);
    for (let r = 0; r < h; r++) for (let c = 0; c < w; c++) crop[r * w + c] = grey[(top + r) * SIDE + left + c];
    const scale = box / side;
    const outH = Math.max(1, Math.round(h * scale)), outW = Math.max(1, Math.round(w * scale));
    const digit = resampleAxis(resampleAxis(crop, h, w, outH, true), outH, w, outW, false);
    let mass = 0, mr = 0, mc = 0;
    for (let r = 0; r < outH; r++) for (let c = 0; c < outW; c++) {
      const v = digit[r * outW + c]; mass += v; mr += v * r; mc += v * c;
    }
    const dr = Math.round(rows / 2 - mr / mass), dc = Math.round(cols / 2 - mc / mass);
    for (let r = 0; r < outH; r++) for (let c = 0; c < outW; c++) {
      const rr = r + dr, cc = c + dc;
      if (rr >= 0 && rr < rows && cc >= 0 && cc < cols) x[rr * cols + cc] = Math.min(1, Math.max(0, digit[r * outW + c]));
    }
    return { x, blank: false };
  }

  function currentInputs() {
    // one input per input shape; a lone test digit is fed exactly as stored (uint8 / 255)
    const byShape = {};
    const lone = items.length === 1 && items[0].kind === "digit";
    let grey = null;
    for (const net of nets) {
      const key = `${net.rows}x${net.cols}`;
      if (byShape[key]) continue;
      if (lone && net.rows === 28 && net.cols === 28 && pool.size === 784) {
        const px = poolImage(items[0].place);
        byShape[key] = { x: Float64Array.from(px, (v) => v / 255), blank: false };
      } else {
        grey = grey || ink();
        byShape[key] = mnistInput(grey, net.rows, net.cols);
      }
    }
    return byShape;
  }

  // ---- pictures ------------------------------------------------------------------------------
  function hexRGB(hex) { const h = hex.replace("#", ""); return [0, 2, 4].map((k) => parseInt(h.slice(k, k + 2), 16)); }
  const POS_RGB = hexRGB(POSITIVE), NEG_RGB = hexRGB(NEGATIVE);

  function weightColour(values) {
    let vmax = 0; for (const v of values) vmax = Math.max(vmax, Math.abs(v));
    vmax = vmax || 1;
    return { vmax, colour: (v) => { const t = Math.min(1, Math.abs(v) / vmax); const c = v >= 0 ? POS_RGB : NEG_RGB; return c.map((k) => Math.round(k * t)); } };
  }

  function gridCanvas(values, rows, cols, className) {
    const { vmax, colour } = weightColour(values);
    const c = digitCanvas(values, rows, cols, (v) => colour(v));
    c.className = className || "grid";
    return { canvas: c, vmax };
  }

  function greyCanvas(pixels, rows, cols, className) {
    const c = digitCanvas(pixels, rows, cols);
    c.className = className === undefined ? "grid" : className;
    return c;
  }

  const inputView = document.getElementById("input-view");
  function drawInputView(x, rows, cols) {
    inputView.width = cols; inputView.height = rows;
    const g = inputView.getContext("2d"), img = g.createImageData(cols, rows);
    for (let k = 0; k < rows * cols; k++) {
      const v = Math.round(x[k] * 255);
      img.data[4 * k] = v; img.data[4 * k + 1] = v; img.data[4 * k + 2] = v; img.data[4 * k + 3] = 255;
    }
    g.putImageData(img, 0, 0);
    document.getElementById("input-size").textContent = `${rows}\u00d7${cols}`;
    document.getElementById("input-count").textContent = String(rows * cols);
  }

  // ---- one panel per network ---------------------------------------------------------------------
  const networksDiv = document.getElementById("networks");
  const views = [];

  function el(tag, attrs, text) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v);
    if (text !== undefined) e.textContent = text;
    return e;
  }

  function layerRole(net, li) {
    return li === net.layers.length - 1 ? "output layer" : `hidden layer ${li + 1}`;
  }

  function buildViews() {
    networksDiv.textContent = "";
    views.length = 0;
    nets.forEach((net, n) => {
      const section = el("section", { class: "net", "data-net": String(n) });
      const h2 = el("h2");
      h2.append(el("span", {}, net.label), el("span", { class: "source" }, net.source));
      section.append(h2);
      const kind = net.provenance.kind === "spec" ? "every weight compiled from a spec"
        : net.provenance.kind === "trained" ? "trained by gradient descent" : "";
      section.append(el("p", { class: "summary note" },
        `${net.sizes.join("-")} network, ${net.nParameters.toLocaleString("en")} weights and biases${kind ? ", " + kind : ""}.`));
      const answer = el("div", { class: "answer" });
      answer.append(el("span", {}, "It reads"));
      const prediction = el("output", { class: "prediction", id: n === 0 ? "prediction" : `prediction-${n}`, "data-net": String(n) }, "\u2013");
      const confidence = el("span", { class: "note confidence" });
      answer.append(prediction, confidence);
      section.append(answer);
      const diagram = el("canvas", { class: "diagram", "aria-label": `the lit-up network ${net.label}` });
      section.append(diagram);
      section.append(el("p", { class: "note" },
        `Columns: the input pixels, then each layer's neurons (brightness = activation, 0 black to 1 white). ` +
        `Lines: each neuron's ${TOP_K} strongest incoming weights, green positive and red negative, glowing when ` +
        `the neuron (or pixel) they come from is active. Click a neuron to see what it looks for.`));
      const out = net.layers[net.layers.length - 1];
      section.append(el("h3", {}, `Output: ${out.name}`));
      section.append(el("p", { class: "note" }, `Each bar is one output neuron's activation; the brightest one is the network's answer.`));
      const bars = el("div", { class: "bars" });
      const rows = out.units.map((u, j) => {
        const label = el("span", { class: "bar-label" }, answerText(net, j) === u ? u : `${u} (${answerText(net, j)})`);
        const track = el("div", { class: "bar-track" }), fill = el("div", { class: "bar-fill" });
        track.append(fill);
        const value = el("span", { class: "bar-value" }, "0.00");
        bars.append(label, track, value);
        return { label, track, fill, value };
      });
      section.append(bars);
      networksDiv.append(section);
      const view = { net, section, diagram, prediction, confidence, rows, layout: null };
      diagram.addEventListener("click", (event) => clickDiagram(view, event));
      views.push(view);
    });
  }

  function layoutDiagram(view) {
    const net = view.net, canvasEl = view.diagram;
    const width = canvasEl.clientWidth || 400;
    canvasEl.style.height = `${Math.round(Math.max(240, Math.min(470, width * 0.5)))}px`;
    const height = canvasEl.clientHeight || 300;
    const dpr = window.devicePixelRatio || 1;
    canvasEl.width = Math.round(width * dpr); canvasEl.height = Math.round(height * dpr);
    const top = 26, bottom = height - 10;
    const imageSide = Math.min(height * 0.42, width * 0.2);
    const imageLeft = 6, imageTop = (top + bottom) / 2 - imageSide / 2;
    const labelRoom = Math.min(70, width * 0.17);
    const L = net.layers.length, x1 = width - labelRoom;
    // named first-layer units get their names to the left of the circles: leave room for them
    let x0 = imageLeft + imageSide + Math.max(24, width * 0.08);
    let step = L > 1 ? (x1 - x0) / (L - 1) : 0;
    const named = (layer) => layer.nOut <= 24 && layer.units.some((u) => !/^\d+$/.test(u));
    const roomForNames = named(net.layers[0]) && L > 1 && (x1 - x0 - 70) / (L - 1) > 95;
    if (roomForNames) { x0 += 70; step = (x1 - x0) / (L - 1); }
    const labelled = (li) => named(net.layers[li]) && (li === 0 ? roomForNames : step > 95);
    let most = 1; for (const l of net.layers) most = Math.max(most, l.nOut);
    const radius = Math.max(2.5, Math.min(11, (bottom - top) / most * 0.4, step * 0.14 || 11));
    const positions = [];
    const pixels = [];
    for (let r = 0; r < net.rows; r++) for (let c = 0; c < net.cols; c++) {
      pixels.push([imageLeft + (c + 0.5) * imageSide / net.cols, imageTop + (r + 0.5) * imageSide / net.rows]);
    }
    positions.push(pixels);
    net.layers.forEach((layer, li) => {
      const x = L > 1 ? x0 + step * li : (x0 + x1) / 2, n = layer.nOut;
      const span = (bottom - top) * (n < most ? Math.min(1, n / most + 0.25) : 1);
      const mid = (top + bottom) / 2;
      const ys = [];
      for (let j = 0; j < n; j++) ys.push(n === 1 ? mid : mid - span / 2 + radius + (span - 2 * radius) * j / (n - 1));
      positions.push(ys.map((y) => [x, y]));
    });
    view.layout = { width, height, dpr, radius, positions, imageLeft, imageTop, imageSide, step, top, labelled };
  }

  function rgba(rgb, alpha) { return `rgba(${rgb[0]},${rgb[1]},${rgb[2]},${alpha.toFixed(3)})`; }

  function drawDiagram(view, acts, predicted) {
    if (!view.layout) layoutDiagram(view);
    const { dpr, width, height, radius, positions, imageLeft, imageTop, imageSide, top, labelled } = view.layout;
    const net = view.net, g = view.diagram.getContext("2d");
    g.setTransform(dpr, 0, 0, dpr, 0, 0);
    g.fillStyle = "#111"; g.fillRect(0, 0, width, height);
    // lines first, under the neurons
    g.lineCap = "round";
    net.layers.forEach((layer, li) => {
      const src = positions[li], dst = positions[li + 1], a = acts[li];
      for (const line of net.lines[li]) {
        const from = src[line.i], to = dst[line.j];
        const glow = Math.min(1, Math.max(0, a[line.i]));
        g.strokeStyle = rgba(line.w > 0 ? POS_RGB : NEG_RGB, 0.1 + 0.85 * line.strength * glow);
        g.lineWidth = 0.5 + 2 * line.strength;
        g.beginPath();
        g.moveTo(from[0] + (li ? radius : 0), from[1]);
        g.lineTo(to[0] - radius, to[1]);
        g.stroke();
      }
    });
    // the input image, pixel by pixel
    const x = acts[0], cell = imageSide / net.cols, cellH = imageSide / net.rows;
    g.fillStyle = "#000"; g.fillRect(imageLeft, imageTop, imageSide, imageSide);
    for (let r = 0; r < net.rows; r++) for (let c = 0; c < net.cols; c++) {
      const v = x[r * net.cols + c];
      if (v > 0.004) {
        const k = Math.round(255 * Math.min(1, v));
        g.fillStyle = `rgb(${k},${k},${k})`;
        g.fillRect(imageLeft + c * cell, imageTop + r * cellH, cell + 0.3, cellH + 0.3);
      }
    }
    g.strokeStyle = "#777"; g.lineWidth = 1; g.strokeRect(imageLeft, imageTop, imageSide, imageSide);
    g.font = "11px system-ui, sans-serif"; g.fillStyle = "#ccc"; g.textAlign = "center";
    g.fillText(`${net.rows * net.cols} inputs`, imageLeft + imageSide / 2, imageTop - 6);
    const last = net.layers.length - 1;
    net.layers.forEach((layer, li) => {
      const pos = positions[li + 1], a = acts[li + 1];
      g.fillStyle = "#ccc"; g.textAlign = "center"; g.font = "11px system-ui, sans-serif";
      g.fillText(`${layer.name} (${layer.nOut})`, pos[0][0], top - 10);
      for (let j = 0; j < layer.nOut; j++) {
        const v = Math.round(255 * Math.min(1, Math.max(0, a[j])));
        g.beginPath(); g.arc(pos[j][0], pos[j][1], radius, 0, 2 * Math.PI);
        g.fillStyle = `rgb(${v},${v},${v})`; g.fill();
        const chosen = selected && selected.net === net.index && selected.layer === li && selected.unit === j;
        const top1 = li === last && predicted === j;
        g.lineWidth = chosen || top1 ? 2.5 : 1;
        g.strokeStyle = chosen ? "#4db8ff" : top1 ? "#ffd700" : "#888";
        g.stroke();
        if (li === last) {
          g.textAlign = "left"; g.fillStyle = top1 ? "#ffd700" : "#ddd";
          g.font = `${top1 ? "bold " : ""}${Math.max(9, Math.min(12, radius * 1.3))}px system-ui, sans-serif`;
          g.fillText(`${layer.units[j]} ${a[j].toFixed(2)}`, pos[j][0] + radius + 4, pos[j][1] + 4);
        } else if (labelled(li) && !/^\d+$/.test(layer.units[j])) {
          g.textAlign = "right"; g.fillStyle = "#aaa"; g.font = "9px system-ui, sans-serif";
          g.fillText(layer.units[j], pos[j][0] - radius - 3, pos[j][1] - radius * 0.2);
        }
      }
    });
  }

  function clickDiagram(view, event) {
    if (!view.layout) return;
    const rect = view.diagram.getBoundingClientRect();
    const px = event.clientX - rect.left, py = event.clientY - rect.top;
    let best = null;
    view.layout.positions.slice(1).forEach((pos, li) => pos.forEach(([x, y], j) => {
      const d = Math.hypot(px - x, py - y);
      if (d <= Math.max(view.layout.radius + 6, 10) && (!best || d < best.d)) best = { d, li, j };
    }));
    if (best) selectUnit(view.net.index, best.li, best.j);
  }

  // ---- the unit panel ------------------------------------------------------------------------------
  const panel = document.getElementById("unit-panel");
  let selected = null;

  function selectUnit(n, li, j) {
    selected = { net: n, layer: li, unit: j };
    renderPanel();
    update();
    panel.scrollIntoView({ behavior: "smooth", block: "nearest" });
  }

  function effectiveTemplate(net, li, j) {
    // W_li[j] @ W_(li-1) @ ... @ W_0: a linear approximation of what the unit reads in pixels
    let t = Float64Array.from(net.layers[li].W.subarray(j * net.layers[li].nIn, (j + 1) * net.layers[li].nIn));
    for (let below = li - 1; below >= 0; below--) {
      const L = net.layers[below], next = new Float64Array(L.nIn);
      for (let u = 0; u < L.nOut; u++) {
        const w = t[u]; if (w === 0) continue;
        for (let i = 0; i < L.nIn; i++) next[i] += w * L.W[u * L.nIn + i];
      }
      t = next;
    }
    return t;
  }

  function figure(caption, ...children) {
    const f = el("figure");
    for (const c of children) f.append(c);
    f.append(el("figcaption", {}, caption));
    return f;
  }

  function renderPanel() {
    if (!selected) { panel.hidden = true; return; }
    const net = nets[selected.net], layer = net.layers[selected.layer], j = selected.unit;
    const name = `${layer.name}:${layer.units[j]}`;
    panel.hidden = false;
    panel.textContent = "";
    const head = el("div", { class: "unit-head" });
    const title = el("div");
    title.append(el("h3", {}, `${name}`));
    title.append(el("p", { class: "note" }, `${net.label}: unit ${j} of ${layer.nOut} in ${layerRole(net, selected.layer)}, ` +
      `${layer.activation}(w\u00b7a + b) with bias b = ${layer.b[j].toFixed(3)}.`));
    const now = el("p", { id: "unit-activation" });
    title.append(now);
    head.append(title);
    const close = el("button", { type: "button", id: "unit-close" }, "Close");
    close.addEventListener("click", () => { selected = null; renderPanel(); update(); });
    head.append(close);
    panel.append(head);
    const note = net.notes[name] || {};
    if (note.doc) panel.append(el("p", {}, `Spec doc: \u201c${note.doc}\u201d`));
    if (note.rule) {
      const p = el("p", { class: "rule" }, "Spec rule: ");
      p.append(el("code", {}, note.rule));
      panel.append(p);
    }
    const figs = el("div", { class: "unit-figures" });
    const weights = layer.W.subarray(j * layer.nIn, (j + 1) * layer.nIn);
    if (selected.layer === 0) {
      const { canvas: c, vmax } = gridCanvas(weights, net.rows, net.cols);
      figs.append(figure(`Its ${layer.nIn} incoming weights, one per pixel: green pixels push it up when inked, red ` +
        `ones push it down, black ones hardly matter (brightest = \u00b1${vmax.toPrecision(2)}).`, c));
    } else {
      const { canvas: c, vmax } = gridCanvas(effectiveTemplate(net, selected.layer, j), net.rows, net.cols);
      figs.append(figure(`Effective template: its weights multiplied down through the layers to the pixels ` +
        `(green up, red down, brightest = \u00b1${vmax.toPrecision(2)}). A linear approximation: it ignores ` +
        `the squashing in between, so it shows the strongest paths, not exactly what the neuron computes.`, c));
      const below = net.layers[selected.layer - 1];
      const reads = el("div", { class: "reads" });
      const order = Array.from(weights, (w, i) => i).filter((i) => weights[i] !== 0)
        .sort((p, q) => Math.abs(weights[q]) - Math.abs(weights[p]) || p - q).slice(0, 10);
      let wmax = 0; for (const w of weights) wmax = Math.max(wmax, Math.abs(w));
      for (const i of order) {
        reads.append(el("span", {}, `${below.units[i]} ${weights[i] >= 0 ? "+" : ""}${weights[i].toFixed(2)}`));
        const bar = el("span", { class: "w" });
        bar.style.width = `${Math.max(2, 100 * Math.abs(weights[i]) / (wmax || 1))}%`;
        bar.style.background = weights[i] >= 0 ? POSITIVE : NEGATIVE;
        reads.append(bar);
      }
      figs.append(figure(`Its strongest weights from the ${below.nOut} neurons of ${below.name} ` +
        `(green: that neuron lighting up pushes this one up; red: pushes it down).`, reads));
    }
    if (net.maximizers) {
      const m = net.maximizers[selected.layer], size = net.rows * net.cols;
      const c = greyCanvas(m.pixels.subarray(j * size, (j + 1) * size), net.rows, net.cols);
      c.title = m.methods[j];
      figs.append(figure(`The input that makes it fire hardest (pixels 0 to 1), found by optimization: ` +
        `activation ${m.activations[j].toFixed(3)} on it.`, c));
    } else {
      figs.append(figure("Its maximizing input is still being computed; it appears here in a moment.", el("div")));
    }
    if (net.topDigits) {
      const top = net.topDigits[selected.layer];
      const thumbs = el("div", { class: "thumbs" });
      top.places[j].forEach((place, k) => {
        const f = el("figure");
        const c = greyCanvas(poolImage(place), 28, 28, "");
        c.title = `test digit #${pool.indices[place]}: click to feed it in`;
        c.addEventListener("click", () => loadDigit(place));
        f.append(c, el("figcaption", {}, `${pool.labels[place]}: ${top.values[j][k].toFixed(2)}`));
        thumbs.append(f);
      });
      figs.append(figure(`The ${top.places[j].length} of the ${pool.name} test digits that activate it most ` +
        `(label: activation). Click one to feed it in.`, thumbs));
    }
    panel.append(figs);
  }

  function updatePanelActivation() {
    if (!selected) return;
    const net = nets[selected.net];
    const p = document.getElementById("unit-activation");
    if (!p || !net.acts) return;
    const a = net.acts[selected.layer + 1][selected.unit];
    p.textContent = `Activation on your digit now: ${a.toFixed(3)} (0 = off, 1 = fully on).`;
  }

  // ---- the update: input -> forward -> pictures --------------------------------------------------
  const timings = [];
  function update() {
    const started = performance.now();
    const inputs = currentInputs();
    let shown = null;
    views.forEach((view) => {
      const net = view.net, input = inputs[`${net.rows}x${net.cols}`];
      net.acts = forward(net, input.x);
      net.blank = input.blank;
      const out = net.acts[net.acts.length - 1];
      let best = 0; for (let j = 1; j < out.length; j++) if (out[j] > out[best]) best = j;
      net.predicted = input.blank ? null : best;
      const unit = net.layers[net.layers.length - 1].units[best], answer = answerText(net, best);
      view.prediction.textContent = input.blank ? "\u2013" : answer;
      view.confidence.textContent = input.blank ? "(nothing drawn yet: draw a digit)"
        : `(its output neuron ${unit}${answer === unit ? "" : `, which answers ${answer},`} is the brightest, at ${out[best].toFixed(2)})`;
      view.rows.forEach((row, j) => {
        row.fill.style.width = `${(100 * Math.min(1, Math.max(0, out[j]))).toFixed(1)}%`;
        row.value.textContent = out[j].toFixed(2);
        const top = !input.blank && j === best;
        row.label.classList.toggle("bar-row-top", top); row.track.classList.toggle("bar-row-top", top);
      });
      drawDiagram(view, net.acts, net.predicted);
      if (!shown) shown = net;
    });
    if (shown) drawInputView(shown.acts[0], shown.rows, shown.cols);
    updatePanelActivation();
    const elapsed = performance.now() - started;
    timings.push(elapsed);
    if (timings.length > 5000) timings.shift();
    return elapsed;
  }

  // ---- live mode: `handnet serve` ------------------------------------------------------------------
  function showErrors(errors) {
    const box = document.getElementById("errors");
    if (!errors || !errors.length) { box.hidden = true; box.textContent = ""; return; }
    box.hidden = false; box.textContent = "";
    box.append(el("strong", {}, "The spec has errors; the page keeps the last network that built."));
    for (const e of errors) box.append(el("pre", {}, e));
  }

  function applyNetworks(data) {
    const keep = selected && nets[selected.net] ? {
      net: selected.net, layer: nets[selected.net].layers[selected.layer].name,
      unit: nets[selected.net].layers[selected.layer].units[selected.unit],
    } : null;
    nets = data.networks.map(prepare);
    version = data.version;
    selected = null;
    if (keep && nets[keep.net]) {
      const li = nets[keep.net].layers.findIndex((l) => l.name === keep.layer);
      const j = li >= 0 ? nets[keep.net].layers[li].units.indexOf(keep.unit) : -1;
      if (j >= 0) selected = { net: keep.net, layer: li, unit: j };
    }
    buildViews();
    renderPanel();
    update();
  }

  async function poll() {
    try {
      const response = await fetch("/version", { cache: "no-store" });
      const status = await response.json();
      showErrors(status.errors);
      const live = document.getElementById("live-status");
      live.hidden = false;
      live.textContent = `Live: watching ${status.watching.join(", ")}. Save a spec and this page updates ` +
        `within a second, keeping your drawing (version ${status.version}).`;
      if (status.version !== version) {
        const data = await (await fetch("/network.json", { cache: "no-store" })).json();
        applyNetworks(data);
        showErrors(data.errors);
      }
    } catch (e) {
      const live = document.getElementById("live-status");
      live.hidden = false;
      live.textContent = "Live: the handnet serve process is not answering (stopped?). The page still works.";
    }
    setTimeout(poll, DATA.poll_ms || 300);
  }

  // ---- start ---------------------------------------------------------------------------------------
  buildViews();
  repaint();
  // the first runs of any code are slow (the JavaScript compiler warms up): do them before the user draws
  items.push({ kind: "stroke", points: [[SIDE / 2, SIDE / 4], [SIDE / 2, SIDE * 3 / 4]] });
  repaint();
  for (let k = 0; k < 5; k++) update();
  items = [];
  repaint();
  update();
  timings.length = 0;
  showErrors(DATA.errors);
  let resizeTimer = null;
  window.addEventListener("resize", () => {
    clearTimeout(resizeTimer);
    resizeTimer = setTimeout(() => { views.forEach((v) => { v.layout = null; }); update(); }, 60);
  });
  if (DATA.live) setTimeout(poll, DATA.poll_ms || 300);

  // hooks for tests and scripts
  window.handnetPlayground = {
    timings,
    version: () => version,
    networks: () => nets.map((n) => ({ label: n.label, sha256: n.sha256, sizes: n.sizes })),
    input: (n = 0) => Array.from(nets[n].acts[0]),
    activations: (n = 0) => nets[n].acts.slice(1).map((a) => Array.from(a)),
    prediction: (n = 0) => (nets[n].predicted === null ? null : answerText(nets[n], nets[n].predicted)),
    selectUnit, update, loadDigit,
    unitPosition: (n, layer, unit) => {  // where a neuron is drawn, in CSS pixels from the diagram's corner
      const view = views[n]; if (!view.layout) layoutDiagram(view);
      const [x, y] = view.layout.positions[layer + 1][unit]; return { x, y };
    },
  };
  document.body.dataset.ready = "1";
})();
