#!/usr/bin/env python3
"""Reference for bench_import: what `from pycocotools.coco import COCO; COCO(annotation_file)` does, timed.

pycocotools is not packaged for this machine, so its load path is written out here (standard library + numpy),
step for step as pycocotools/coco.py does it: the module imports numpy (and its numpy-based _mask extension),
COCO.__init__ reads the file with json.load, checks that it is a dict and prints its two messages, and
COCO.createIndex builds the anns/imgs/cats dicts and the imgToAnns / catToImgs defaultdicts.
Prints the seconds of json.load + createIndex (without interpreter start and imports) as JSON on the last line;
bench_import also times the whole command.
"""
import json
import sys
import time
from collections import defaultdict

import numpy  # noqa: F401  (pycocotools.coco and pycocotools.mask import it at module level)


def load_like_pycocotools(path):
    print("loading annotations into memory...")
    tic = time.time()
    with open(path, "r") as f:
        dataset = json.load(f)
    assert type(dataset) == dict, "annotation file format {} not supported".format(type(dataset))
    print("Done (t={:0.2f}s)".format(time.time() - tic))
    print("creating index...")
    anns, cats, imgs = {}, {}, {}
    img_to_anns, cat_to_imgs = defaultdict(list), defaultdict(list)
    if "annotations" in dataset:
        for ann in dataset["annotations"]:
            img_to_anns[ann["image_id"]].append(ann)
            anns[ann["id"]] = ann
    if "images" in dataset:
        for img in dataset["images"]:
            imgs[img["id"]] = img
    if "categories" in dataset:
        for cat in dataset["categories"]:
            cats[cat["id"]] = cat
    if "annotations" in dataset and "categories" in dataset:
        for ann in dataset["annotations"]:
            cat_to_imgs[ann["category_id"]].append(ann["image_id"])
    print("index created!")
    return dataset, anns, imgs, cats


def main():
    start = time.perf_counter()
    dataset, anns, imgs, cats = load_like_pycocotools(sys.argv[1])
    seconds = time.perf_counter() - start
    print(json.dumps({"seconds": seconds, "images": len(imgs), "annotations": len(anns), "categories": len(cats)}))


if __name__ == "__main__":
    main()
