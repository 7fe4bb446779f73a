#!/usr/bin/env python3
"""Reference for bench_import: what pycocotools' COCO(annotation_file) does on load, timed.

COCO.__init__ reads the file with json.load and then COCO.createIndex builds anns/imgs/cats dicts and the
imgToAnns / catToImgs defaultdicts. pycocotools is not packaged for this machine, so the same two steps are
written out here (standard library only). Prints the seconds as JSON.
"""
import json
import sys
import time
from collections import defaultdict


def load_like_pycocotools(path):
    with open(path, "r") as f:
        dataset = json.load(f)
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
    return dataset, anns, imgs, cats


def main():
    start = time.perf_counter()
    dataset, anns, imgs, cats = load_like_pycocotools(sys.argv[1])
    seconds = time.perf_counter() - start
    print(json.dumps({"seconds": seconds, "images": len(imgs), "annotations": len(anns), "categories": len(cats)}))


if __name__ == "__main__":
    main()
