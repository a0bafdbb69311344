const express = require('express');
const app = express();
let hits = 0;
const cache = new Map();

app.use(express.json());
app.get('/count', (req, res) => {
  hits++;
  res.json({ hits });
});
app.post('/items/:id', async (req, res, next) => {
  try {
    const { id } = req.params;
    const item = cache.get(id) ?? { id, created: Date.now() };
    item.body = req.body;
    cache.set(id, item);
    res.status(201).send(item);
  } catch (err) {
    next(err);
  }
});
app.listen(process.env.PORT || 0, function () { console.log(this.address(), arguments.length); });
